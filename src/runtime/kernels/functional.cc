// Functional control flow and calls that stay in a frozen graph: While loops (Keras RNNs), and
// If / Case / calls when a graph was not flattened. Their bodies run as library functions.
#include <cstring>

#include "graph/function_graph.h"
#include "runtime/kernel.h"

namespace tffreeze::runtime {
namespace {

// Untrusted graphs must not loop forever.
constexpr std::int64_t kMaxIterations = 1'000'000;

std::string func_attr(const KernelContext& ctx, const std::string& name) {
  std::string f = graph::function_attr(ctx.node(), name);
  if (f.empty()) ctx.fail("has no function attr '" + name + "'");
  return f;
}

std::vector<Tensor> inputs_from(const KernelContext& ctx, int first) {
  std::vector<Tensor> args;
  for (int i = first; i < ctx.num_inputs(); ++i) args.push_back(ctx.input(i));
  return args;
}

// TensorFlow's truth value of a predicate: a scalar's value, else "has elements".
bool truth(const KernelContext& ctx, const Tensor& t) {
  if (t.num_elements() != 1 || t.dtype == tf::DT_STRING || t.dtype == tf::DT_VARIANT) {
    if (t.dtype == tf::DT_VARIANT) ctx.fail("predicate is a variant");
    return t.num_elements() > 0;
  }
  return element_as_double(t, 0) != 0;
}

void set_outputs(KernelContext& ctx, std::vector<Tensor> values) {
  for (std::size_t k = 0; k < values.size(); ++k) ctx.output(static_cast<int>(k)) = std::move(values[k]);
}

void while_loop(KernelContext& ctx) {
  const std::string cond = func_attr(ctx, "cond"), body = func_attr(ctx, "body");
  std::vector<Tensor> values = inputs_from(ctx, 0);
  for (std::int64_t iteration = 0;; ++iteration) {
    if (iteration >= kMaxIterations) ctx.fail("stopped after " + std::to_string(kMaxIterations) + " iterations");
    std::vector<Tensor> c = ctx.call(cond, values);
    if (c.empty()) ctx.fail("cond function '" + cond + "' returns nothing");
    if (!truth(ctx, c[0])) break;
    std::vector<Tensor> next = ctx.call(body, values);
    if (next.size() != values.size()) {
      ctx.fail("body function '" + body + "' returns " + std::to_string(next.size()) + " values for " + std::to_string(values.size()) + " loop variables");
    }
    values = std::move(next);
  }
  set_outputs(ctx, std::move(values));
}

void if_kernel(KernelContext& ctx) {
  const std::string branch = func_attr(ctx, truth(ctx, ctx.input(0)) ? "then_branch" : "else_branch");
  set_outputs(ctx, ctx.call(branch, inputs_from(ctx, 1)));
}

void case_kernel(KernelContext& ctx) {
  auto it = ctx.node().attr().find("branches");
  if (it == ctx.node().attr().end() || it->second.list().func_size() == 0) ctx.fail("has no branches");
  const auto& branches = it->second.list().func();
  auto index = ctx.input_ints(0);
  if (index.size() != 1) ctx.fail("branch_index must be a scalar");
  // Out of range runs the last branch, as TensorFlow does.
  int k = index[0] < 0 || index[0] >= branches.size() ? branches.size() - 1 : static_cast<int>(index[0]);
  set_outputs(ctx, ctx.call(branches.Get(k).name(), inputs_from(ctx, 1)));
}

void call_kernel(KernelContext& ctx) {
  const bool call_op = ctx.node().op() == "PartitionedCall" || ctx.node().op() == "StatefulPartitionedCall";
  const std::string f = call_op ? func_attr(ctx, "f") : ctx.node().op();  // else: an op named after a function
  set_outputs(ctx, ctx.call(f, inputs_from(ctx, 0)));
}

}  // namespace

void register_functional_kernels(KernelRegistry& r) {
  r.add("While", while_loop);
  r.add("StatelessWhile", while_loop);
  r.add("If", if_kernel);
  r.add("StatelessIf", if_kernel);
  r.add("Case", case_kernel);
  r.add("StatelessCase", case_kernel);
  r.add("PartitionedCall", call_kernel);
  r.add("StatefulPartitionedCall", call_kernel);
}

}  // namespace tffreeze::runtime
