// V2 tensor bundles: PREFIX.index (header + one BundleEntryProto per tensor) and data shards.
#pragma once

#include <memory>

#include "io/checkpoint/checkpoint.h"

namespace tffreeze::io::checkpoint {

std::unique_ptr<Checkpoint> open_bundle(const std::string& prefix);

}  // namespace tffreeze::io::checkpoint
