// MatMul(A, B) + C as Gemm(A, W, C, transB=1), as onnxoptimizer's fuse_matmul_add_bias_into_gemm:
// one fully connected layer for TensorRT and OpenCV (OpenCV 4.6 reads Gemm only with transB=1,
// measured). Exactly the pair where ONNX's Gemm is defined: A of rank 2, B a 2-D float weight
// [K, N] (W is its transpose; a Transpose of a weight [N, K], TF's transpose_b, is W itself), C a
// float weight of shape [N] or [1, N]. A batched MatMul, a computed B or bias, or a MatMul whose
// product is read elsewhere stays as it is.
#include "export/onnx/context.h"
#include "export/onnx/fusions/fusion_graph.h"

namespace tffreeze::onnx_export {
namespace {

bool is_float_weight(const FusionGraph& g, const std::string& v) { return g.is_constant(v) && g.elem_type(v) == onnx::TensorProto::FLOAT; }

// W ([N, K]) for a MatMul weight B: a Transpose's input when B is a transposed weight (the
// Transpose joins `removed`), else a new weight holding B transposed. "" when B is neither.
std::string weight_as_transposed(const std::string& b, FusionGraph& g, std::vector<const onnx::NodeProto*>* removed) {
  if (const auto* t = g.producer(b); t && t->op_type() == "Transpose" && g.only_read_once(*t) && is_float_weight(g, t->input(0))) {
    auto w = g.shape(t->input(0));
    auto perm = targets::onnx_attr_ints(*t, "perm");
    if (w && w->size() == 2 && (!perm || *perm == std::vector<std::int64_t>{1, 0})) {
      removed->push_back(t);
      return t->input(0);
    }
    return "";
  }
  auto shape = g.shape(b);
  auto values = g.floats(b);  // none for a weight in an external file
  if (!is_float_weight(g, b) || !shape || shape->size() != 2 || !values) return "";
  const std::int64_t k = (*shape)[0], n = (*shape)[1];
  std::vector<float> w(values->size());
  for (std::int64_t r = 0; r < k; ++r)
    for (std::int64_t c = 0; c < n; ++c) w[static_cast<std::size_t>(c * k + r)] = static_cast<float>((*values)[static_cast<std::size_t>(r * n + c)]);
  return g.add_float_initializer(b + "/transposed", w, {n, k});
}

}  // namespace

std::string fuse_matmul_add_as_gemm(const onnx::NodeProto& add, FusionGraph& g) {
  if (add.op_type() != "Add" || add.input_size() != 2) return "";
  for (int k = 0; k < 2; ++k) {
    const auto* mm = g.producer(add.input(k));
    if (!mm || mm->op_type() != "MatMul" || !g.only_read_once(*mm)) continue;
    const std::string bias = add.input(1 - k);
    auto a = g.shape(mm->input(0)), b = g.shape(mm->input(1)), c = g.shape(bias);
    if (!a || a->size() != 2 || !b || b->size() != 2 || !c || !is_float_weight(g, bias) || g.elem_type(mm->input(0)) != onnx::TensorProto::FLOAT) continue;
    const std::int64_t n = (*b)[1];
    if (*c != std::vector<std::int64_t>{n} && *c != std::vector<std::int64_t>{1, n}) continue;
    std::vector<const onnx::NodeProto*> removed = {mm};
    const std::string w = weight_as_transposed(mm->input(1), g, &removed);
    if (w.empty()) continue;
    const std::string what = "Gemm '" + targets::onnx_node_name(add) + "': MatMul '" + targets::onnx_node_name(*mm) + "' + Add of a bias";
    set_int(g.fuse(add, "Gemm", {mm->input(0), w, bias}, removed), "transB", 1);
    return what;
  }
  return "";
}

}  // namespace tffreeze::onnx_export
