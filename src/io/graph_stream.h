// A binary GraphDef written node by node, with the values of mapped Consts
// (graph/mapped_constants.h) copied from the checkpoint's memory-mapped data file straight into
// the output: memory holds one node's skeleton at a time, never a weight. The bytes are those
// of protobuf's deterministic serialization (what write_binary_atomic writes for the same graph
// with the values read in), which the tests check file by file.
#pragma once

#include <string>

#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::io {

// Atomic: a failure (a checksum mismatch in the checkpoint, a full disk) leaves nothing at `path`.
void write_graph_streaming(const tf::GraphDef& graph, const std::string& path);

}  // namespace tffreeze::io
