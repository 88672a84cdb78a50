// out = f(a, b) element by element with NumPy broadcasting, for kernels of two operands of one
// dtype T (bitwise ops, shifts, the two-argument special functions).
#pragma once

#include "common/dtype.h"
#include "runtime/broadcast.h"
#include "runtime/dispatch.h"

namespace tffreeze::runtime {

template <class T, class F>
void broadcast_binary(KernelContext& ctx, F f) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  if (a.dtype != b.dtype) ctx.fail("operand dtypes differ: " + dtype_name(a.dtype) + " and " + dtype_name(b.dtype));
  auto shape = broadcast_shape(a.shape, b.shape);
  if (!shape) ctx.fail("shapes " + dims_string(a.shape) + " and " + dims_string(b.shape) + " do not broadcast");
  Tensor out = make_tensor(ctx, a.dtype, *shape);
  const T* pa = data<T>(a);
  const T* pb = data<T>(b);
  T* po = data<T>(out);
  if (a.shape == b.shape) {
    for (std::int64_t i = 0, n = out.num_elements(); i < n; ++i) po[i] = f(pa[i], pb[i]);
  } else {
    auto ia = broadcast_index(a.shape, *shape), ib = broadcast_index(b.shape, *shape);
    for (std::size_t i = 0; i < ia.size(); ++i) po[i] = f(pa[ia[i]], pb[ib[i]]);
  }
  ctx.output(0) = std::move(out);
}

}  // namespace tffreeze::runtime
