// v1 while loops (Enter / Merge / Switch / LoopCond / NextIteration / Exit, as TF 1's
// tf.while_loop and `freeze --lower-loops` write them) for the executor: which nodes belong to
// which loop frame, and an execution order in which each frame is one step, so that the
// executor can run a frame's nodes iteration by iteration where it reaches it.
#pragma once

#include <string>
#include <vector>

#include "graph/graph_view.h"

namespace tffreeze::runtime {

struct LoopFrames {
  std::vector<int> frame_of;               // node -> frame index, -1 outside every loop
  std::vector<std::vector<int>> members;   // per frame, in execution order (back edges ignored)
  std::vector<std::string> names;          // frame_name of the frame's Enter nodes
  std::vector<std::string> unsupported;    // per frame: why it cannot run ("" if it can)
  std::vector<int> schedule;               // node i, or -(f + 1) for frame f as one step
};

// Frames are the nodes forward-reachable from a frame's Enter nodes up to its Exit nodes.
// Nested frames are marked unsupported. Throws Error (exit 3) when the frames form a cycle.
LoopFrames find_loop_frames(const graph::GraphView& view, const std::vector<int>& order);

bool is_loop_op(const std::string& op);

}  // namespace tffreeze::runtime
