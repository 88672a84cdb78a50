// tffreeze-modelgen MODEL --out DIR [--width-multiplier F] [--image-size N] [--classes N]
//                   [--seed S] [--batch-norm fused|decomposed]
// Writes a TF 1 training MetaGraphDef and a V2 checkpoint of seeded random values:
//   DIR/model.ckpt.meta, DIR/model.ckpt.index, DIR/model.ckpt.data-00000-of-00001,
// and DIR/freeze.args, the `tffreeze freeze` arguments that make it an inference graph:
//   tffreeze freeze DIR/model.ckpt.meta $(cat DIR/freeze.args) --optimize -o out.pb
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "common/error.h"
#include "common/file_util.h"
#include "io/proto_io.h"
#include "modelgen/models.h"

namespace {

using namespace tffreeze;

int generate(const std::string& model, const std::string& dir, const modelgen::ModelOptions& options) {
  modelgen::GeneratedModel m = modelgen::build_model(model, options);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(ExitCode::kBadInput, dir + ": cannot create the directory: " + ec.message());
  const std::string prefix = dir + "/model.ckpt";
  const tf::MetaGraphDef meta = m.graph.meta_graph();
  write_file_atomic(prefix + ".meta", io::to_binary(meta));
  modelgen::write_training_checkpoint(m.graph.variables(), prefix, options.seed);
  std::string shape;
  for (auto d : m.input_shape) shape += (shape.empty() ? "" : ",") + std::to_string(d);
  const std::string args = "-c " + prefix + " --outputs " + m.output + " --replace-input " + m.input + "=float32[" + shape +
                           "] --set is_training=false --use-moving-averages";
  write_file_atomic(dir + "/freeze.args", args + "\n");
  std::int64_t params = 0, trainable = 0;
  for (const auto& v : m.graph.variables()) {
    std::int64_t n = 1;
    for (auto d : v.shape) n *= d;
    params += n;
    if (v.trainable) trainable += n;
  }
  std::cout << model << ": " << meta.graph_def().node_size() << " nodes, " << m.graph.variables().size() << " variables, " << trainable
            << " trainable parameters (" << params << " in the checkpoint with optimizer slots and moving averages)\n"
            << "wrote " << prefix << ".meta, " << prefix << ".index, " << prefix << ".data-00000-of-00001, " << dir << "/freeze.args\n"
            << "freeze: tffreeze freeze " << prefix << ".meta " << args << " --optimize -o " << model << ".pb\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tffreeze-modelgen: TF 1 training graphs and checkpoints of known architectures, with seeded random weights"};
  std::string model, dir;
  tffreeze::modelgen::ModelOptions options;
  app.add_option("model", model, "inception_v3, mobilenet_v1 or resnet50_v1")->required();
  app.add_option("--out", dir, "Directory to write into")->required();
  app.add_option("--width-multiplier", options.width, "Channel multiplier (default 1)");
  app.add_option("--image-size", options.image_size, "Input height and width (default 299 / 224)");
  app.add_option("--classes", options.classes, "Classifier outputs (default 1000)");
  app.add_option("--seed", options.seed, "Seed of the weights (default 1)");
  app.add_option("--batch-norm", options.batch_norm, "mobilenet_v1: fused or decomposed batch norms (default fused)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    return generate(model, dir, options);
  } catch (const tffreeze::Error& e) {
    std::cerr << "tffreeze-modelgen: " << e.what() << "\n";
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::cerr << "tffreeze-modelgen: " << e.what() << "\n";
    return 3;
  }
}
