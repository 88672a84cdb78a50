// Row-major Eigen views of tensor bytes, for the kernels that hand work to Eigen's decompositions
// (matrix.cc).
#pragma once

#include <Eigen/Core>

namespace tffreeze::runtime {

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using ConstMap = Eigen::Map<const RowMatrix<T>>;
template <class T>
using MutMap = Eigen::Map<RowMatrix<T>>;

}  // namespace tffreeze::runtime
