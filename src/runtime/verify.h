// Proving two graphs compute the same: inputs drawn to the placeholders' dtypes and shapes,
// both graphs run, every common output compared within tolerance. Used by `tffreeze verify`
// and by the optimizer's built-in check.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/tensor.h"
#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::runtime {

// The Placeholders the given fetches need, in graph order.
std::vector<const tffreeze::tf::NodeDef*> needed_placeholders(const tffreeze::tf::GraphDef& graph, const std::vector<std::string>& fetches);

// Random values for each placeholder: unknown dims become 1 unless `shapes` names them;
// floats uniform in [-1, 1), ints in [0, 10), bools fair. Deterministic for a seed. Training
// flags get their inference value instead: false for is_training/learning_phase, 1 for a
// keep_prob, 0 for a dropout rate.
std::map<std::string, Tensor> random_feeds(const std::vector<const tffreeze::tf::NodeDef*>& placeholders,
                                           const std::map<std::string, std::vector<std::int64_t>>& shapes, std::uint64_t seed);

// Checks a user-given feed against its placeholder (dtype, shape); throws Error (exit 3).
void check_feed(const tffreeze::tf::GraphDef& graph, const std::string& name, const Tensor& value);

struct Difference {
  double max_abs = 0, max_rel = 0;
  bool within_tolerance = true;
  std::string mismatch;  // dtype or shape difference, if any
};

// |a - b| <= atol + rtol * |b| everywhere (NaN equals NaN).
Difference compare_tensors(const Tensor& a, const Tensor& b, double rtol, double atol);

// Runs `reference` and `candidate` on the same inputs (`given`, or `batches` random batches
// from `seed`) and compares each fetch; each graph is fed only the placeholders it has.
std::map<std::string, Difference> compare_graphs(const tffreeze::tf::GraphDef& reference, const tffreeze::tf::GraphDef& candidate,
                                                 const std::vector<std::string>& fetches, const std::map<std::string, Tensor>& given,
                                                 const std::map<std::string, std::vector<std::int64_t>>& shapes, int batches,
                                                 std::uint64_t seed, double rtol, double atol);

// Where two graphs that disagree first part: the first tensor, in the candidate's execution
// order, whose value departs (beyond tolerance) from the reference's tensor of the same name,
// dtype and shape on `feeds`. What a user needs to file a bug against a transform.
struct Departure {
  std::string tensor, op;  // "conv/BiasAdd" (or "split:1") and its op in the candidate
  Difference difference;
};
std::optional<Departure> first_departure(const tffreeze::tf::GraphDef& reference, const tffreeze::tf::GraphDef& candidate,
                                         const std::vector<std::string>& fetches, const std::map<std::string, Tensor>& feeds, double rtol,
                                         double atol);

}  // namespace tffreeze::runtime
