#include "io/checkpoint/object_graph.h"

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
  const ObjectWalk walk = walk_objects(graph);
  for (int id : walk.order)
    for (const auto& attr : graph.nodes(id).attributes())
      out.push_back({id, walk.path[static_cast<std::size_t>(id)], attr.name(), attr.checkpoint_key()});
  return out;
}

}  // namespace tffreeze::io::checkpoint
