// 3x3 stride-1 convolutions by Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray, "Fast
// Algorithms for Convolutional Neural Networks", 2016): each 2x2 block of outputs comes from a
// 4x4 block of input through 16 products of transformed values instead of 36, so the matrix
// products (16 of them, one per transformed position) do 4/9 of a direct convolution's work. The
// transforms only add, subtract and halve; the results differ from a direct sum by rounding.
#pragma once

#include <cstdint>

namespace tffreeze::runtime {

struct Winograd3x3Shape {
  std::int64_t N, H, W, C, OC, OH, OW, pad_top, pad_left;  // NHWC input, N x OH x OW x OC output
};

// Whether F(2x2, 3x3) pays off for an OH x OW output: enough channels that the products, not the
// transforms, dominate, and enough 2x2 tiles that each product's rows outweigh reading its 16
// transformed C x OC filter slices (a 7x7 output has 16 tiles: slower than the direct products).
bool winograd_3x3_worthwhile(std::int64_t C, std::int64_t OC, std::int64_t OH, std::int64_t OW);

// out (NHWC, every element written) = the convolution of `in` (NHWC) with the 3x3 HWIO `filter`,
// zero padding pad_top/pad_left before and whatever OH/OW leave after.
void conv2d_winograd_3x3(const Winograd3x3Shape& s, const float* in, const float* filter, float* out);

}  // namespace tffreeze::runtime
