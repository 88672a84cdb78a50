// Helpers shared by the freezing tests: freeze a fixture as the CLI would (its default
// checkpoint), find nodes and constants, make input tensors.
#pragma once

#include <cstring>
#include <memory>

#include "freeze/freeze.h"
#include "graph/validate.h"
#include "io/checkpoint/checkpoint.h"
#include "io/model.h"
#include "support.h"

namespace tffreeze::test {

inline freeze::FreezeResult freeze_path(const std::string& model_path, freeze::FreezeOptions options = {}, const std::string& ckpt = "") {
  io::Model model = io::load_model(model_path);
  std::string prefix = ckpt.empty() ? freeze::default_checkpoint_for(model) : ckpt;
  std::unique_ptr<io::checkpoint::Checkpoint> c;
  if (!prefix.empty()) c = io::checkpoint::open_checkpoint(prefix);
  freeze::FreezeResult r = freeze::freeze_model(model, c.get(), options);
  auto problems = graph::validate_graph(r.graph);
  EXPECT_TRUE(problems.empty()) << model_path << ": " << (problems.empty() ? "" : problems.front());
  return r;
}

inline const tf::NodeDef* node_named(const tf::GraphDef& g, const std::string& name) {
  for (const auto& n : g.node())
    if (n.name() == name) return &n;
  return nullptr;
}

inline Tensor const_value(const tf::GraphDef& g, const std::string& name) {
  const tf::NodeDef* n = node_named(g, name);
  if (!n || n->op() != "Const") {
    ADD_FAILURE() << "no Const named " << name;
    return {};
  }
  return tensor_from_proto(n->attr().at("value").tensor(), name);
}

// A tensor of C++ values T stored as `dtype` (same size).
template <class T>
Tensor values_tensor(tf::DataType dtype, std::vector<std::int64_t> shape, const std::vector<T>& values) {
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.bytes.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  return t;
}

// All elements as doubles.
inline std::vector<double> as_doubles(const Tensor& t) {
  std::vector<double> v;
  for (std::int64_t i = 0; i < t.num_elements(); ++i) v.push_back(element_as_double(t, i));
  return v;
}

}  // namespace tffreeze::test
