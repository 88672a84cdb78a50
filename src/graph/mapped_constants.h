// Const nodes whose value is still in a checkpoint's memory-mapped data file: the node carries its
// dtype and shape, no content, and the checkpoint key under kMappedValueAttr. `freeze` makes them
// when the graph goes straight to a binary GraphDef, and io::write_graph_streaming copies each
// value from the mapping into the output file, so no weight is ever held in memory. Every other
// consumer gets real values first (materialize_mapped_constants).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::io::checkpoint {
class Checkpoint;
struct Entry;
}

namespace tffreeze::graph {

inline constexpr const char* kMappedValueAttr = "_tffreeze_mapped_value";

// Whether a checkpoint tensor can stay mapped: one run of fixed-size values (Checkpoint::
// streamable) of other than one element (a Const of one element keeps it in a typed field, as
// TensorFlow writes it, not as content bytes).
bool mappable(const io::checkpoint::Checkpoint& checkpoint, const io::checkpoint::Entry& entry);

tf::NodeDef make_mapped_const(const std::string& name, tf::DataType dtype, const std::vector<std::int64_t>& shape, const std::string& key);
// The checkpoint key of a mapped Const's value; nullptr for any other node.
const std::string* mapped_value_key(const tf::NodeDef& node);
bool has_mapped_constants(const tf::GraphDef& graph);
// Reads every mapped value into its node (the node becomes an ordinary Const).
void materialize_mapped_constants(tf::GraphDef* graph, const io::checkpoint::Checkpoint& checkpoint);

}  // namespace tffreeze::graph
