// A Const's value is either in the node (tensor_content or typed values) or still in a
// checkpoint's memory-mapped data file: a mapped Const carries its dtype and shape, no content,
// and under kMappedValueAttr the source it reads from and the checkpoint key. `freeze` makes
// them; passes, the executor and the writers read every Const through constant_value(), which
// reads a mapped value from the file when asked (Checkpoint::read: pread, so no page of the
// mapping is faulted in or has to be dropped again); a pass that changes a value replaces the
// node, so only computed values (folded batch norms, folded constants) are ever held in memory.
// io::write_graph_streaming copies the mapped values from the checkpoint into the output file a
// chunk at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/tensor.h"
#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::io::checkpoint {
class Checkpoint;
struct Entry;
}

namespace tffreeze::graph {

inline constexpr const char* kMappedValueAttr = "_tffreeze_mapped_value";

// A checkpoint that mapped Consts read from, found by the id in their attr for as long as this
// lives (a graph whose source is gone cannot be read: that is a bug of ours, exit 5).
class MappedSource {
 public:
  static std::shared_ptr<const MappedSource> open(std::shared_ptr<const io::checkpoint::Checkpoint> checkpoint);
  ~MappedSource();
  MappedSource(const MappedSource&) = delete;
  MappedSource& operator=(const MappedSource&) = delete;

  std::int64_t id() const { return id_; }
  const io::checkpoint::Checkpoint& checkpoint() const { return *checkpoint_; }

 private:
  MappedSource(std::shared_ptr<const io::checkpoint::Checkpoint> checkpoint, std::int64_t id);
  std::shared_ptr<const io::checkpoint::Checkpoint> checkpoint_;
  std::int64_t id_;
};

// Whether a checkpoint tensor can stay mapped: one run of fixed-size values (Checkpoint::
// streamable) of other than one element (a Const of one element keeps it in a typed field, as
// TensorFlow writes it, not as content bytes).
bool mappable(const io::checkpoint::Checkpoint& checkpoint, const io::checkpoint::Entry& entry);

tf::NodeDef make_mapped_const(const std::string& name, tf::DataType dtype, const std::vector<std::int64_t>& shape,
                              const MappedSource& source, const std::string& key);

struct MappedValue {
  std::shared_ptr<const MappedSource> source;
  std::string key;
};
// Where a mapped Const's value is; nullopt for any other node. Throws Error (exit 5) when the
// source is gone.
std::optional<MappedValue> mapped_value(const tf::NodeDef& node);
bool is_mapped_const(const tf::NodeDef& node);
// Whether a mapped Const's attr is well formed and names an open source.
bool mapped_source_open(const tf::NodeDef& node);
bool has_mapped_constants(const tf::GraphDef& graph);

// The value of a Const node, mapped or not. Throws Error (exit 3) naming the node on a value
// that does not fit its dtype and shape.
Tensor constant_value(const tf::NodeDef& node);

// Drops kMappedValueAttr from every node of a graph read from a file: only a graph in memory
// may refer to an open source (the writers never write the attr).
void forget_mapped_values(tf::GraphDef* graph);

// Reads every mapped value into its node (the node becomes an ordinary Const).
void materialize_mapped_constants(tf::GraphDef* graph);

// A mapped Const without its value and kMappedValueAttr: what precedes the value on the wire.
tf::NodeDef mapped_const_skeleton(const tf::NodeDef& node);

// The wire lengths of a mapped Const's NodeDef once its value is in it, with `content` bytes of
// content: `skeleton_size` is the size of the node without the value attr and kMappedValueAttr,
// `tensor_size` that of the value's TensorProto without content. Laid out as
//   skeleton [attr tag][entry len] [key tag][5]"value" [value tag][attr len]
//   [tensor tag][tensor len] dtype/shape [content tag][content len] content
struct MappedNodeLayout {
  std::uint64_t tensor_len, attr_len, entry_len, node_len;
};
MappedNodeLayout mapped_node_layout(std::uint64_t skeleton_size, std::uint64_t tensor_size, std::uint64_t content);
// The graph's serialized size as written (mapped values counted at their stored size).
std::uint64_t serialized_size(const tf::GraphDef& graph);

}  // namespace tffreeze::graph
