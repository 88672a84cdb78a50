// Writes a large V2 checkpoint for the benchmarks: tensors of seeded random float32 values,
// shaped like convolution kernels and dense weights, with the library's own bundle writer.
//   tffreeze-bench-checkpoint PREFIX SIZE_MB
#include <cstring>
#include <iostream>
#include <random>
#include <string>

#include "common/error.h"
#include "io/checkpoint/bundle_writer.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: tffreeze-bench-checkpoint PREFIX SIZE_MB\n";
    return 2;
  }
  const long long target = std::stoll(argv[2]) << 20;
  std::mt19937 rng(1);
  std::uniform_int_distribution<std::uint32_t> bits;
  try {
    tffreeze::io::checkpoint::BundleWriter writer(argv[1]);
    long long written = 0;
    for (int layer = 0; written < target; ++layer) {
      // A 3x3 conv kernel of 512->512 channels (9.4 MB) and its bias, as in a wide CNN.
      tffreeze::Tensor kernel{tffreeze::tf::DT_FLOAT, {3, 3, 512, 512}, {}, {}};
      kernel.bytes.resize(static_cast<std::size_t>(kernel.num_elements()) * 4);
      for (std::size_t i = 0; i < kernel.bytes.size(); i += 4) {
        float v = static_cast<float>(bits(rng)) / 4294967296.0f - 0.5f;
        std::memcpy(kernel.bytes.data() + i, &v, 4);
      }
      tffreeze::Tensor bias{tffreeze::tf::DT_FLOAT, {512}, std::string(2048, '\0'), {}};
      std::string scope = "layer_" + std::to_string(layer);
      writer.add(scope + "/weights", kernel);
      writer.add(scope + "/biases", bias);
      written += static_cast<long long>(kernel.bytes.size() + bias.bytes.size());
    }
    writer.finish();
    std::cerr << "wrote " << argv[1] << " (" << (written >> 20) << " MiB)\n";
  } catch (const tffreeze::Error& e) {
    std::cerr << "tffreeze-bench-checkpoint: " << e.what() << "\n";
    return static_cast<int>(e.code());
  }
  return 0;
}
