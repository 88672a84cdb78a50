// A read-only index over a GraphDef: nodes by name, consumers, and execution order.
// Rewriting passes build on it; it never copies the GraphDef.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "graph/tensor_ref.h"
#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::graph {

namespace tf = ::tffreeze::tf;

struct Edge {
  int producer = -1;  // node index
  int output = 0;     // producer's output index (-1: control edge)
  int consumer = -1;
  int input_slot = 0; // position in consumer's input list
  bool control() const { return output < 0; }
};

class GraphView {
 public:
  explicit GraphView(const tf::GraphDef& graph);

  const tf::GraphDef& graph() const { return graph_; }
  int size() const { return graph_.node_size(); }
  const tf::NodeDef& node(int i) const { return graph_.node(i); }
  // Index of the node with this name, or -1. For duplicated names, the first one.
  int find(std::string_view name) const;

  // Edges into / out of a node. Inputs naming a missing node are not edges (see dangling()).
  const std::vector<Edge>& inputs(int node) const { return in_[node]; }
  const std::vector<Edge>& consumers(int node) const { return out_[node]; }

  // Problems found while indexing.
  const std::vector<std::string>& duplicate_names() const { return duplicates_; }
  struct Dangling {
    int consumer;
    std::string input;
  };
  const std::vector<Dangling>& dangling() const { return dangling_; }

  // Node indices so that every node comes after its inputs. The back edges of v1 while loops
  // (NextIteration -> Merge) are not ordering constraints. Throws Error (exit 3) naming the
  // nodes of a cycle.
  std::vector<int> topological_order() const;

  // Nodes the given tensors/nodes need (data and control inputs, transitively), stopping at
  // `stop_at` nodes (kept, their inputs not followed). Unknown names throw Error (exit 3).
  std::vector<bool> needed_by(const std::vector<std::string>& outputs, const std::vector<std::string>& stop_at = {}) const;

 private:
  bool is_loop_back_edge(const Edge& e) const;

  const tf::GraphDef& graph_;
  std::unordered_map<std::string_view, int> index_;
  std::vector<std::vector<Edge>> in_, out_;
  std::vector<std::string> duplicates_;
  std::vector<Dangling> dangling_;
};

// A copy of `graph` with only the nodes marked in `keep`, in their original order.
tf::GraphDef extract_subgraph(const tf::GraphDef& graph, const std::vector<bool>& keep);

}  // namespace tffreeze::graph
