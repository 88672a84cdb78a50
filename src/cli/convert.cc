// tffreeze convert IN OUT: between binary and text graphs (.pb, .pbtxt, '-' for stdout).
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
#include "cli/onnx_output.h"
#include "graph/summary.h"
#include "common/file_util.h"
#include "graph/default_attrs.h"
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
  auto onnx = std::make_shared<OnnxOutputOptions>();
  add_onnx_options(cmd, onnx.get());
  cmd->callback([=] {
    *action = [=] {
      refuse_overwriting_input(*out, {*in});
      io::check_output_path(*out);
      io::Model model = io::load_model(*in, {*tags});
      if (is_onnx_output(*out)) {
        nlohmann::json report;
        write_onnx(model.graph(), graph::likely_outputs(model), {}, *onnx, *out, &report);
        return 0;
      }
      if (extension(*out) == ".json") {
        // TF.js reads attrs that old producers omitted (Conv2D's dilations...): fill defaults.
        int added = graph::add_default_attributes(model.mutable_graph());
        if (added) std::cerr << "filled " << added << " default attributes for TF.js\n";
      }
      io::save_graph(model.graph(), *out);
      if (*out != "-") std::cerr << "wrote " << *out << " (" << model.graph().node_size() << " nodes)\n";
      return 0;
    };
  });
}

}  // namespace tffreeze::cli
