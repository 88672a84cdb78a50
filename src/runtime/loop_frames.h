// v1 while loops (Enter / Merge / Switch / LoopCond / NextIteration / Exit, as TF 1's
// tf.while_loop and `freeze --lower-loops` write them) for the executor: which nodes belong to
// which loop frame, how frames nest, and an execution order in which each frame is one step,
// so that the executor can run a frame's nodes iteration by iteration where it reaches it.
// An inner loop's frame is one step of its outer frame's iteration: it runs to its end (and
// re-enters) on every outer iteration.
#pragma once

#include <string>
#include <vector>

#include "graph/graph_view.h"

namespace tffreeze::runtime {

struct LoopFrames {
  std::vector<int> frame_of;               // node -> innermost frame, -1 outside every loop
  std::vector<int> parent;                 // per frame: the frame it is nested in, -1 for none
  std::vector<std::vector<int>> members;   // per frame: its nodes and its inner frames' nodes, in execution order
  std::vector<std::vector<int>> steps;     // per frame, one iteration: node i, or -(g + 1) for inner frame g as one step
  std::vector<std::string> names;          // frame_name of the frame's Enter nodes
  std::vector<int> schedule;               // outside every loop: node i, or -(f + 1) for outermost frame f as one step
};

// As TensorFlow assigns frames: an Enter is in the frame it names, nested in the frame of its
// input; an Exit's consumers are in its frame's parent; any other node is in the innermost frame
// of its inputs. Throws Error (exit 3) when frames cross or form a cycle, and (exit 4) when
// loops nest deeper than the executor recurses.
LoopFrames find_loop_frames(const graph::GraphView& view, const std::vector<int>& order);

bool is_loop_op(const std::string& op);

}  // namespace tffreeze::runtime
