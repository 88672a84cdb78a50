// A checkpoint of seeded random values for every variable of a TF 1 graph, keyed by variable
// name as tf.train.Saver writes them: for graphs whose weights were not published, and for the
// model generator. Moving variances (and any name ending in "variance") get positive values.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::io::checkpoint {

// Returns the number of variables written; `keep` (if given) filters them by name.
int write_random_checkpoint(const tffreeze::tf::GraphDef& graph, const std::string& prefix, std::uint64_t seed,
                            const std::function<bool(const std::string&)>& keep = nullptr);

}  // namespace tffreeze::io::checkpoint
