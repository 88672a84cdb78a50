// What only training needs, found by op type and structure: the ops a deploy runtime rejects
// and the flags or passes that remove them. Shared by inspect, the freeze report and the
// strip_training_ops pass.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "graph/graph_view.h"

namespace tffreeze::graph {

// Category name -> node names, in graph order. Categories: dropout, training_flags, queues,
// iterators, optimizer, gradients, saver, summaries, assertions, state_updates.
using TrainingOps = std::map<std::string, std::vector<std::string>>;

TrainingOps find_training_ops(const GraphView& view);

// True for nodes a frozen inference graph never keeps as an output: bookkeeping (NoOp, saver,
// summaries, assertions, state updates, initializers) and anything in the categories above.
bool is_bookkeeping_op(const std::string& op);

// Ops that change variables: assignments, scatters and optimizer apply ops.
bool is_state_update(const std::string& op);

// Ops that draw random numbers (dropout masks, initializers).
bool is_random_op(const std::string& op);

// A Placeholder that switches training behaviour (is_training, keras_learning_phase,
// keep_prob, ...), judged by dtype and name.
bool is_training_flag(const tf::NodeDef& node);

}  // namespace tffreeze::graph
