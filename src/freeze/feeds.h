// Turning training inputs into what inference needs: --set NAME=VALUE makes a placeholder a
// constant (is_training=false, keep_prob=1.0), --replace-input NAME=DTYPE[SHAPE] makes any
// tensor (a queue dequeue, an iterator's get-next) a Placeholder.
#pragma once

#include <string>

#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::freeze {

// NAME names a Placeholder or PlaceholderWithDefault; VALUE is parsed for its dtype (true/false
// or 1/0 for bool, a number otherwise) and fills its shape (which must be fully known; an
// unknown shape makes a scalar). Throws Error (exit 3) naming the node.
void set_placeholder_value(tffreeze::tf::GraphDef* graph, const std::string& name, const std::string& value);

// SPEC is "NAME=DTYPE[D0,D1,...]" (-1 or ? for an unknown dim; no brackets: unknown shape).
// NAME "node" or "node:0" replaces the node itself (a node whose other outputs are read moves to
// "node/replaced" and keeps serving them);
// "node:k" adds a Placeholder named "node_k" and rewires the consumers of that tensor.
// Returns the placeholder's name. Throws Error (exit 2 for a bad spec, 3 for a missing node).
std::string replace_input(tffreeze::tf::GraphDef* graph, const std::string& spec);

}  // namespace tffreeze::freeze
