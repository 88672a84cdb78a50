// tffreeze convert IN OUT: between binary and text graphs (.pb, .pbtxt, '-' for stdout).
#include <CLI/CLI.hpp>
#include <iostream>

#include "api/onnx_output.h"
#include "api/save.h"
#include "cli/commands.h"
#include "cli/optimize.h"
#include "common/file_util.h"
#include "graph/summary.h"
#include "graph/validate.h"
#include "io/model.h"

namespace tffreeze::cli {

void add_convert(CLI::App& app, Action* action) {
  auto* cmd = app.add_subcommand("convert", "Write a model's graph as binary .pb, text .pbtxt, a TF.js graph model .json or ONNX .onnx (by OUT's extension; '-' = text to stdout)");
  auto in = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto tags = std::make_shared<std::vector<std::string>>();
  cmd->add_option("input", *in, "Any model tffreeze reads")->required();
  cmd->add_option("output", *out, "OUT.pb, OUT.pbtxt, DIR/model.json, OUT.onnx or -")->required();
  cmd->add_option("--tags", *tags, "SavedModel meta graph tags (default: serve)")->delimiter(',');
  auto onnx = std::make_shared<api::OnnxOutputOptions>();
  add_onnx_options(cmd, onnx.get());
  cmd->callback([=] {
    *action = [=] {
      refuse_overwriting_input(*out, {*in});
      io::check_output_path(*out);
      io::Model model = io::load_model(*in, {*tags});
      if (api::is_onnx_output(*out)) {
        graph::refuse_invalid_input(model.graph(), *in);  // the export's passes must not be blamed for it
        nlohmann::json report;
        naming_the_file(*in, [&] { api::write_onnx(model.graph(), graph::likely_outputs(model), {}, *onnx, *out, &report, std::cout); });
        return 0;
      }
      api::save_tf_graph(std::move(*model.mutable_graph()), *out, std::cerr);
      return 0;
    };
  });
}

}  // namespace tffreeze::cli
