// What `ckpt list` and `inspect PREFIX` print about a checkpoint (and Python's inspect returns).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <ostream>

#include "io/checkpoint/checkpoint.h"

namespace tffreeze::api {

// Array of {name, dtype, shape, bytes} (plus "slices" for partitioned tensors).
nlohmann::json checkpoint_entries_json(const io::checkpoint::Checkpoint& ckpt);
// The listing plus format, prefix, totals, and the TF 2 object graph's keys when present.
nlohmann::json checkpoint_summary_json(const io::checkpoint::Checkpoint& ckpt);
void print_checkpoint_table(const io::checkpoint::Checkpoint& ckpt, std::ostream& out);

}  // namespace tffreeze::api
