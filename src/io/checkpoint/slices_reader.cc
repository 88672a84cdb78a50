#include "io/checkpoint/slices_reader.h"

#include <algorithm>
#include <map>

#include "common/dtype.h"
#include "common/error.h"
#include "io/checkpoint/ordered_code.h"
#include "io/checkpoint/slices.h"
#include "io/checkpoint/sstable.h"
#include "io/proto_io.h"

namespace tffreeze::io::checkpoint {
namespace {

class TensorSlices final : public Checkpoint {
 public:
  TensorSlices(const std::string& prefix, const std::vector<std::string>& files) : prefix_(prefix) {
    for (const auto& f : files) {
      auto table = std::make_unique<TableReader>(f);
      auto meta_bytes = table->get("");
      tf::SavedTensorSlices meta;
      std::string why;
      if (!meta_bytes || !parse_binary(*meta_bytes, &meta, &why) || !meta.has_meta()) {
        throw_bad_input(f, "not a V1 checkpoint: no SavedTensorSliceMeta entry" + (why.empty() ? "" : ": " + why));
      }
      const int table_index = static_cast<int>(tables_.size());
      for (const auto& t : meta.meta().tensor()) {
        Entry e;
        e.name = t.name();
        e.dtype = t.type();  // V1 values leave their dtype unset: the meta entry has it
        e.shape = dims_of(t.shape());
        e.slices = t.slice_size();
        auto n = num_elements(t.shape());
        e.bytes = n ? *n * dtype_size(t.type()) : 0;
        auto [it, fresh] = tensors_.try_emplace(t.name(), Stored{e, {}});
        for (const auto& s : t.slice()) it->second.slices.push_back({s, table_index});
        if (fresh) entries_.push_back(e);
      }
      table_bytes_ += table->file_size();
      tables_.push_back(std::move(table));
    }
    std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
  }

  const std::string& prefix() const override { return prefix_; }
  Format format() const override { return Format::kV1; }
  const std::vector<Entry>& entries() const override { return entries_; }

  Tensor read(const std::string& name) const override {
    auto it = tensors_.find(name);
    if (it == tensors_.end()) throw_bad_input(prefix_, "checkpoint has no tensor '" + name + "'");
    const Entry& e = it->second.entry;
    const std::string where = prefix_ + ": tensor '" + name + "'";
    auto n = num_elements(shape_proto(e.shape));
    if (n && static_cast<std::uint64_t>(*n) > table_bytes_) {
      throw Error(ExitCode::kBadInput, where + ": shape " + dims_string(e.shape) + " holds more elements than the checkpoint has bytes");
    }
    Tensor full = allocate_tensor(e.dtype, e.shape, where);
    for (const auto& [slice, table] : it->second.slices) {
      const TableReader& t = *tables_[static_cast<std::size_t>(table)];
      auto value = t.get(encode_tensor_name_slice(name, slice, static_cast<int>(e.shape.size())));
      if (!value) throw Error(ExitCode::kBadInput, where + ": a slice listed in the meta entry is missing from " + t.path());
      tf::SavedTensorSlices stored;
      std::string why;
      if (!parse_binary(*value, &stored, &why)) throw Error(ExitCode::kBadInput, where + ": bad slice data: " + why);
      tf::TensorProto proto = stored.data().data();
      proto.set_dtype(e.dtype);
      *proto.mutable_tensor_shape() = shape_proto(slice_shape(slice, e.shape, where));
      copy_slice_into(tensor_from_proto(proto, where), slice, &full);
    }
    return full;
  }

 private:
  struct Stored {
    Entry entry;
    std::vector<std::pair<tf::TensorSliceProto, int>> slices;  // slice, table index
  };
  std::string prefix_;
  std::vector<std::unique_ptr<TableReader>> tables_;
  std::uint64_t table_bytes_ = 0;
  std::vector<Entry> entries_;
  std::map<std::string, Stored> tensors_;
};

}  // namespace

std::unique_ptr<Checkpoint> open_tensor_slices(const std::string& prefix, const std::vector<std::string>& files) {
  return std::make_unique<TensorSlices>(prefix, files);
}

}  // namespace tffreeze::io::checkpoint
