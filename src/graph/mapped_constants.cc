#include "graph/mapped_constants.h"

#include <charconv>
#include <map>
#include <mutex>

#include "common/dtype.h"
#include "common/error.h"
#include "common/mapped_file.h"
#include "io/checkpoint/checkpoint.h"

namespace tffreeze::graph {
namespace {

// The open sources by id. Weak: a graph does not keep its checkpoint open, its owner does.
struct SourceTable {
  std::mutex mutex;
  std::map<std::int64_t, std::weak_ptr<const MappedSource>> sources;
  std::int64_t next_id = 1;
};

SourceTable& source_table() {
  static SourceTable table;
  return table;
}

std::uint64_t varint_size(std::uint64_t v) {
  std::uint64_t n = 1;
  while (v >= 0x80) v >>= 7, ++n;
  return n;
}

// kMappedValueAttr holds "ID:KEY"; nullopt when malformed.
std::optional<std::pair<std::int64_t, std::string>> parse_mapped_attr(const std::string& s) {
  const auto colon = s.find(':');
  std::int64_t id = 0;
  const auto [end, error] = std::from_chars(s.data(), s.data() + (colon == std::string::npos ? 0 : colon), id);
  if (colon == std::string::npos || error != std::errc() || end != s.data() + colon) return std::nullopt;
  return std::make_pair(id, s.substr(colon + 1));
}

std::shared_ptr<const MappedSource> find_source(std::int64_t id) {
  auto& table = source_table();
  std::lock_guard<std::mutex> lock(table.mutex);
  auto it = table.sources.find(id);
  return it == table.sources.end() ? nullptr : it->second.lock();
}

}  // namespace

MappedSource::MappedSource(std::shared_ptr<const io::checkpoint::Checkpoint> checkpoint, std::int64_t id)
    : checkpoint_(std::move(checkpoint)), id_(id) {}

std::shared_ptr<const MappedSource> MappedSource::open(std::shared_ptr<const io::checkpoint::Checkpoint> checkpoint) {
  auto& table = source_table();
  std::lock_guard<std::mutex> lock(table.mutex);
  std::shared_ptr<const MappedSource> source(new MappedSource(std::move(checkpoint), table.next_id++));
  table.sources[source->id()] = source;
  return source;
}

MappedSource::~MappedSource() {
  auto& table = source_table();
  std::lock_guard<std::mutex> lock(table.mutex);
  table.sources.erase(id_);
}

bool mappable(const io::checkpoint::Checkpoint& checkpoint, const io::checkpoint::Entry& entry) {
  return checkpoint.streamable(entry) && num_elements(shape_proto(entry.shape)).value_or(0) != 1;
}

tf::NodeDef make_mapped_const(const std::string& name, tf::DataType dtype, const std::vector<std::int64_t>& shape,
                              const MappedSource& source, const std::string& key) {
  tf::NodeDef n;
  n.set_name(name);
  n.set_op("Const");
  auto& attrs = *n.mutable_attr();
  attrs["dtype"].set_type(dtype);
  auto* value = attrs["value"].mutable_tensor();
  value->set_dtype(dtype);
  *value->mutable_tensor_shape() = shape_proto(shape);
  attrs[kMappedValueAttr].set_s(std::to_string(source.id()) + ":" + key);
  return n;
}

std::optional<MappedValue> mapped_value(const tf::NodeDef& node) {
  if (!is_mapped_const(node)) return std::nullopt;
  auto parsed = parse_mapped_attr(node.attr().at(kMappedValueAttr).s());
  if (!parsed) throw_internal("node '" + node.name() + "': malformed " + kMappedValueAttr);
  auto source = find_source(parsed->first);
  if (!source) throw_internal("node '" + node.name() + "': its value's checkpoint was closed while the graph was in use");
  return MappedValue{std::move(source), std::move(parsed->second)};
}

bool is_mapped_const(const tf::NodeDef& node) { return node.op() == "Const" && node.attr().count(kMappedValueAttr) > 0; }

bool mapped_source_open(const tf::NodeDef& node) {
  if (!is_mapped_const(node)) return false;
  auto parsed = parse_mapped_attr(node.attr().at(kMappedValueAttr).s());
  return parsed && find_source(parsed->first) != nullptr;
}

bool has_mapped_constants(const tf::GraphDef& graph) {
  for (const auto& n : graph.node())
    if (is_mapped_const(n)) return true;
  return false;
}

Tensor constant_value(const tf::NodeDef& node) {
  auto mapped = mapped_value(node);
  if (!mapped) {
    auto it = node.attr().find("value");
    if (it == node.attr().end()) throw Error(ExitCode::kBadInput, "node '" + node.name() + "': Const has no value");
    return tensor_from_proto(it->second.tensor(), "node '" + node.name() + "'");
  }
  return mapped->source->checkpoint().read(mapped->key);  // freeze gave the Const the entry's dtype and shape
}

void forget_mapped_values(tf::GraphDef* graph) {
  auto forget = [](auto* nodes) {
    for (auto& n : *nodes) n.mutable_attr()->erase(kMappedValueAttr);
  };
  forget(graph->mutable_node());
  if (graph->has_library())  // mutable_library() would add an empty one
    for (auto& f : *graph->mutable_library()->mutable_function()) forget(f.mutable_node_def());
}

void materialize_mapped_constants(tf::GraphDef* graph) {
  for (auto& n : *graph->mutable_node()) {
    if (!is_mapped_const(n)) continue;
    Tensor value = constant_value(n);
    n.mutable_attr()->erase(kMappedValueAttr);
    tensor_to_proto(std::move(value), (*n.mutable_attr())["value"].mutable_tensor());
  }
}

tf::NodeDef mapped_const_skeleton(const tf::NodeDef& node) {
  tf::NodeDef skeleton = node;
  skeleton.mutable_attr()->erase(kMappedValueAttr);
  skeleton.mutable_attr()->erase("value");
  return skeleton;
}

MappedNodeLayout mapped_node_layout(std::uint64_t skeleton_size, std::uint64_t tensor_size, std::uint64_t content) {
  MappedNodeLayout l{};
  l.tensor_len = tensor_size + 1 + varint_size(content) + content;
  l.attr_len = 1 + varint_size(l.tensor_len) + l.tensor_len;
  l.entry_len = 7 + 1 + varint_size(l.attr_len) + l.attr_len;
  l.node_len = skeleton_size + 1 + varint_size(l.entry_len) + l.entry_len;
  return l;
}

std::uint64_t serialized_size(const tf::GraphDef& graph) {
  std::uint64_t size = graph.ByteSizeLong();
  for (const auto& n : graph.node()) {
    if (!is_mapped_const(n)) continue;
    const tf::TensorProto& tensor = n.attr().at("value").tensor();
    const auto content = static_cast<std::uint64_t>(num_elements(tensor.tensor_shape()).value_or(0) * dtype_size(tensor.dtype()));
    const std::uint64_t in_memory = n.ByteSizeLong(), written = mapped_node_layout(mapped_const_skeleton(n).ByteSizeLong(), tensor.ByteSizeLong(), content).node_len;
    size += varint_size(written) + written - varint_size(in_memory) - in_memory;
  }
  return size;
}

}  // namespace tffreeze::graph
