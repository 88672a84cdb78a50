#include "api/checkpoint_report.h"

#include <iomanip>
#include <map>
#include <nlohmann/json.hpp>

#include "common/dtype.h"
#include "io/checkpoint/object_graph.h"

namespace tffreeze::api {

using json = nlohmann::json;

json checkpoint_entries_json(const io::checkpoint::Checkpoint& ckpt) {
  json list = json::array();
  for (const auto& e : ckpt.entries()) {
    json j = {{"name", e.name}, {"dtype", dtype_name(e.dtype)}, {"shape", e.shape}, {"bytes", e.bytes}};
    if (e.slices) j["slices"] = e.slices;
    list.push_back(j);
  }
  return list;
}

json checkpoint_summary_json(const io::checkpoint::Checkpoint& ckpt) {
  json j;
  j["format"] = ckpt.format() == io::checkpoint::Format::kV2 ? "checkpoint (V2 tensor bundle)" : "checkpoint (V1 tensor slices)";
  j["prefix"] = ckpt.prefix();
  std::int64_t total = 0;
  std::map<std::string, int> dtypes;
  for (const auto& e : ckpt.entries()) {
    total += e.bytes;
    ++dtypes[dtype_name(e.dtype)];
  }
  j["tensor_count"] = ckpt.entries().size();
  j["total_bytes"] = total;
  j["dtypes"] = dtypes;
  j["tensors"] = checkpoint_entries_json(ckpt);
  if (auto graph = io::checkpoint::read_object_graph(ckpt)) {
    json objects = json::array();
    for (const auto& a : io::checkpoint::object_attributes(*graph)) {
      objects.push_back({{"path", a.path}, {"attribute", a.attribute}, {"checkpoint_key", a.checkpoint_key}});
    }
    j["object_graph"] = {{"nodes", graph->nodes_size()}, {"attributes", objects}};
  }
  return j;
}

void print_checkpoint_table(const io::checkpoint::Checkpoint& ckpt, std::ostream& out) {
  std::size_t width = 4;
  for (const auto& e : ckpt.entries()) width = std::max(width, e.name.size());
  width = std::min<std::size_t>(width, 80);
  for (const auto& e : ckpt.entries()) {
    out << std::left << std::setw(static_cast<int>(width)) << e.name << "  " << std::setw(8) << dtype_name(e.dtype) << "  "
              << std::setw(18) << dims_string(e.shape) << "  " << e.bytes << (e.slices ? "  (" + std::to_string(e.slices) + " slices)" : "")
              << "\n";
  }
}

}  // namespace tffreeze::api
