#include "io/graph_stream.h"

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <string_view>

#include "common/error.h"
#include "common/file_util.h"
#include "graph/mapped_constants.h"
#include "io/checkpoint/checkpoint.h"
#include "io/proto_io.h"

namespace tffreeze::io {
namespace {

// Wire tags (field number << 3 | 2, length-delimited) of the fields a mapped Const's value sits in.
constexpr char kGraphNode = 0x0A;      // GraphDef.node = 1
constexpr char kNodeAttr = 0x2A;       // NodeDef.attr = 5 (map entries)
constexpr char kEntryKey = 0x0A;       // map entry key = 1
constexpr char kEntryValue = 0x12;     // map entry value = 2
constexpr char kAttrTensor = 0x42;     // AttrValue.tensor = 8
constexpr char kTensorContent = 0x22;  // TensorProto.tensor_content = 4

void put_varint(std::string* out, std::uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Buffered writes to a file descriptor; large runs (weights) go straight from the caller's memory.
class FdWriter {
 public:
  explicit FdWriter(int fd) : fd_(fd) {}
  void put(std::string_view bytes) {
    if (buffer_.size() + bytes.size() > kBuffer) flush();
    if (bytes.size() >= kBuffer) write_all(bytes);
    else buffer_.append(bytes);
  }
  bool finish() {
    flush();
    return ok_;
  }

 private:
  static constexpr std::size_t kBuffer = std::size_t{1} << 20;
  void flush() {
    write_all(buffer_);
    buffer_.clear();
  }
  void write_all(std::string_view bytes) {
    while (ok_ && !bytes.empty()) {
      const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) ok_ = false;
      else bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  int fd_;
  bool ok_ = true;
  std::string buffer_;
};

// A mapped Const with nothing after its "value" attr on the wire (fields 6-7 unset, no attr
// sorting after "value"), so its value's bytes end the node and can follow the rest.
bool value_ends_node(const tf::NodeDef& skeleton) {
  if (skeleton.has_experimental_debug_info() || skeleton.has_experimental_type()) return false;
  for (const auto& [key, value] : skeleton.attr())
    if (key > "value") return false;
  return true;
}

// Node = skeleton (without "value") + the "value" map entry, whose innermost field, the tensor's
// content, is streamed: graph::mapped_node_layout lays it out.
void write_mapped_const(const tf::NodeDef& node, const tf::NodeDef& skeleton, const graph::MappedValue& mapped, FdWriter& out) {
  const tf::TensorProto& tensor = node.attr().at("value").tensor();
  const checkpoint::Checkpoint& checkpoint = mapped.source->checkpoint();
  const checkpoint::Entry* entry = checkpoint.find(mapped.key);
  if (!entry || !graph::mappable(checkpoint, *entry)) throw_internal("mapped constant '" + node.name() + "' cannot be streamed");
  const std::string head = to_binary(skeleton), dims = to_binary(tensor);
  const auto content = static_cast<std::uint64_t>(entry->bytes);
  const graph::MappedNodeLayout l = graph::mapped_node_layout(head.size(), dims.size(), content);
  if (l.node_len > INT_MAX) throw Error(ExitCode::kUnsupported, "constant '" + node.name() + "' is over 2 GiB, more than a GraphDef can hold");
  std::string prefix(1, kGraphNode);
  put_varint(&prefix, l.node_len);
  prefix += head;
  prefix += kNodeAttr;
  put_varint(&prefix, l.entry_len);
  prefix += std::string{kEntryKey, 5} + "value" + kEntryValue;
  put_varint(&prefix, l.attr_len);
  prefix += kAttrTensor;
  put_varint(&prefix, l.tensor_len);
  prefix += dims;
  prefix += kTensorContent;
  put_varint(&prefix, content);
  out.put(prefix);
  if (!checkpoint.stream(mapped.key, [&](std::string_view chunk) { out.put(chunk); })) {
    throw_internal("mapped constant '" + node.name() + "' is not streamable");
  }
}

void write_node(const tf::NodeDef& node, FdWriter& out) {
  std::string bytes;
  if (auto mapped = graph::mapped_value(node)) {
    const tf::NodeDef skeleton = graph::mapped_const_skeleton(node);
    if (value_ends_node(skeleton)) return write_mapped_const(node, skeleton, *mapped, out);
    // An attr a pass added sorts after "value": this one node is read into memory.
    tf::NodeDef read = node;
    tensor_to_proto(graph::constant_value(node), (*read.mutable_attr())["value"].mutable_tensor());
    read.mutable_attr()->erase(graph::kMappedValueAttr);
    bytes = to_binary(read);
  } else {
    bytes = to_binary(node);
  }
  std::string prefix(1, kGraphNode);
  put_varint(&prefix, bytes.size());
  out.put(prefix);
  out.put(bytes);
}

// Every field of the graph but its nodes (copied by reflection: the deprecated `version` too).
tf::GraphDef without_nodes(const tf::GraphDef& graph) {
  tf::GraphDef rest;
  const auto* from = graph.GetReflection();
  const auto* to = rest.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  from->ListFields(graph, &fields);
  for (const auto* f : fields) {
    if (f->number() == tf::GraphDef::kNodeFieldNumber) continue;
    if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE && !f->is_repeated()) {
      to->MutableMessage(&rest, f)->CopyFrom(from->GetMessage(graph, f));
    } else if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_INT32 && !f->is_repeated()) {
      to->SetInt32(&rest, f, from->GetInt32(graph, f));
    } else {
      throw_internal("GraphDef field '" + f->name() + "' is not written by the streaming writer");
    }
  }
  return rest;
}

}  // namespace

void write_graph_streaming(const tf::GraphDef& graph, const std::string& path) {
  // GraphDef's fields after node (1) are library (2), version (3), versions (4), debug_info (5):
  // deterministic serialization writes all nodes first, then these.
  const tf::GraphDef rest = without_nodes(graph);
  write_file_atomic_with(path, [&](int fd) {
    FdWriter out(fd);
    for (const auto& node : graph.node()) write_node(node, out);
    out.put(to_binary(rest));
    return out.finish();
  });
}

}  // namespace tffreeze::io
