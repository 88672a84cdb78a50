#include "io/checkpoint/object_graph.h"

#include <deque>

#include "common/error.h"
#include "io/proto_io.h"

namespace tffreeze::io::checkpoint {

std::optional<tf::TrackableObjectGraph> read_object_graph(const Checkpoint& checkpoint) {
  const Entry* e = checkpoint.find(kObjectGraphKey);
  if (!e) return std::nullopt;
  Tensor t = checkpoint.read(kObjectGraphKey);
  if (t.dtype != tf::DT_STRING || t.strings.size() != 1) {
    throw_bad_input(checkpoint.prefix(), std::string(kObjectGraphKey) + " is not a scalar string");
  }
  tf::TrackableObjectGraph graph;
  std::string why;
  if (!parse_binary(t.strings[0], &graph, &why)) {
    throw_bad_input(checkpoint.prefix(), std::string(kObjectGraphKey) + " is not a TrackableObjectGraph: " + why);
  }
  return graph;
}

std::vector<ObjectAttribute> object_attributes(const tf::TrackableObjectGraph& graph) {
  std::vector<ObjectAttribute> out;
  const int n = graph.nodes_size();
  if (n == 0) return out;
  std::vector<std::string> path(static_cast<std::size_t>(n));
  std::vector<bool> seen(static_cast<std::size_t>(n), false);
  std::deque<int> queue{0};
  seen[0] = true;
  while (!queue.empty()) {
    int id = queue.front();
    queue.pop_front();
    const auto& node = graph.nodes(id);
    for (const auto& attr : node.attributes()) out.push_back({id, path[id], attr.name(), attr.checkpoint_key()});
    for (const auto& child : node.children()) {
      int c = child.node_id();
      if (c < 0 || c >= n || seen[c]) continue;
      seen[c] = true;
      path[c] = path[id].empty() ? child.local_name() : path[id] + "/" + child.local_name();
      queue.push_back(c);
    }
  }
  return out;
}

}  // namespace tffreeze::io::checkpoint
