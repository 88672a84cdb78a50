#include "io/checkpoint/random_checkpoint.h"

#include <cstring>
#include <random>

#include "common/dtype.h"
#include "common/error.h"
#include "io/checkpoint/bundle_writer.h"

namespace tffreeze::io::checkpoint {

int write_random_checkpoint(const tf::GraphDef& graph, const std::string& prefix, std::uint64_t seed,
                            const std::function<bool(const std::string&)>& keep) {
  std::mt19937_64 rng(seed);
  BundleWriter writer(prefix);
  int written = 0;
  for (const auto& n : graph.node()) {
    if (n.op() != "VariableV2" && n.op() != "Variable" && n.op() != "VarHandleOp") continue;
    if (keep && !keep(n.name())) continue;
    if (!n.attr().count("dtype") || !n.attr().count("shape")) continue;
    Tensor t;
    t.dtype = base_type(n.attr().at("dtype").type());
    for (const auto& d : n.attr().at("shape").shape().dim()) {
      if (d.size() < 0) throw Error(ExitCode::kUnsupported, "variable '" + n.name() + "' has no static shape to fill");
      t.shape.push_back(d.size());
    }
    const int esize = dtype_size(t.dtype);
    if (esize == 0) continue;
    t.bytes.assign(static_cast<std::size_t>(t.num_elements() * esize), '\0');
    if (t.dtype == tf::DT_FLOAT) {
      const bool variance = n.name().size() >= 8 && n.name().compare(n.name().size() - 8, 8, "variance") == 0;
      std::uniform_real_distribution<float> u(variance ? 0.5f : -0.1f, variance ? 1.5f : 0.1f);
      for (std::int64_t i = 0; i < t.num_elements(); ++i) {
        const float v = u(rng);
        std::memcpy(t.bytes.data() + 4 * i, &v, 4);
      }
    }
    writer.add(n.name(), t);
    ++written;
  }
  writer.finish();
  return written;
}

}  // namespace tffreeze::io::checkpoint
