// What the to_nchw pass needs to know about tensors and frames: static shapes of a graph
// (without running it whole), and the permutations between the channels-last frame TensorFlow
// wrote (NHWC, NDHWC) and the channels-first one (NCHW, NCDHW).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/tensor.h"
#include "graph/graph_view.h"

namespace tffreeze::passes::layout {

using Dims = std::vector<std::int64_t>;

// Channels-first perm of a rank-r channels-last tensor: [0, r-1, 1, ..., r-2]. Entry j is the
// channels-last axis that channels-first axis j holds.
std::vector<int> to_channels_first(int rank);
// The inverse: [0, 2, ..., r-1, 1].
std::vector<int> to_channels_last(int rank);
// Where channels-last axis `axis` (already in [0, rank)) sits in the channels-first frame.
int channels_first_axis(int axis, int rank);
// out[j] = in[perm[j]] for any dtype (strings too).
Tensor transpose(const Tensor& in, const std::vector<int>& perm);

// Static shape of every tensor the graph computes, from the placeholders' shapes and the
// constants: shape rules where graph/shape_inference has one, else the op's kernel on zeros.
// An unknown batch (dim 0 of a placeholder) is tried as 1 and as 2, so a dimension that does not
// depend on it is known exactly; any other unknown placeholder dim makes what depends on it
// inexact (rank known, sizes not), and so does a result computed from an integer operand of
// unknown value or by an op whose result size depends on the data (Where, NonMaxSuppression).
// Ops without a kernel, or whose kernel fails, give nothing.
class StaticShapes {
 public:
  explicit StaticShapes(const graph::GraphView& view);

  // Rank of output k of node i, -1 when unknown.
  int rank(int node, int output) const;
  // Dimension d when it is known exactly, else -1.
  std::int64_t dim(int node, int output, int d) const;
  // Dtype when known, else DT_INVALID.
  tf::DataType dtype(int node, int output) const;

 private:
  struct Known {
    Dims a, b;  // the two samples (batch 1 and 2)
    bool exact = true;
    tf::DataType dtype = tf::DT_INVALID;
  };
  void infer(const graph::GraphView& view, int node);
  void from_placeholder(const tf::NodeDef& node, int i);
  bool from_rule(const graph::GraphView& view, int i, const std::vector<const Known*>& in);
  void from_kernel(const graph::GraphView& view, int i, const std::vector<const Known*>& in);
  const Tensor* value(int node, int output, int sample) const;
  const Known* find(int node, int output) const;

  std::map<std::pair<int, int>, Known> known_;
  // Values of small tensors (constants, shape arithmetic), per sample; others are zeros.
  std::map<std::pair<int, int>, Tensor> values_[2];
};

}  // namespace tffreeze::passes::layout
