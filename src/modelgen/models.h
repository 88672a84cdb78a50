// The generated models: TF 1 training graphs of Inception V3 (slim layout), a MobileNet V1 as
// users write it (conv + bias + batch_normalization + Relu6) and ResNet-50 V1 (Keras layout).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "modelgen/training_graph.h"

namespace tffreeze::modelgen {

struct ModelOptions {
  double width = 1.0;        // channel multiplier
  int image_size = 0;        // 0: the model's own (299 or 224)
  int classes = 1000;
  std::uint64_t seed = 1;
  std::string batch_norm = "fused";  // mobilenet_v1: fused | decomposed
  int batch = 32;            // the training batch the queue dequeues
};

struct GeneratedModel {
  TrainingGraph graph;
  std::string input;                   // the dequeue to replace with a placeholder
  std::vector<std::int64_t> input_shape;  // [1, H, W, 3] for inference
  std::string output;                  // the inference output
  explicit GeneratedModel(std::uint64_t seed) : graph(seed) {}
};

const std::vector<std::string>& model_names();
// Throws Error (exit 2) for an unknown model or options it cannot build (too small an image).
GeneratedModel build_model(const std::string& name, const ModelOptions& options);

// Writes PREFIX.index/.data with seeded values for every variable, by role: variance-preserving
// weights, BN statistics near their usual ranges, EMA shadows close to their variables.
void write_training_checkpoint(const std::vector<Variable>& variables, const std::string& prefix, std::uint64_t seed);

}  // namespace tffreeze::modelgen
