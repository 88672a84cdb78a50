// tffreeze convert IN OUT: between binary and text graphs (.pb, .pbtxt, '-' for stdout).
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
#include "common/file_util.h"
#include "io/model.h"

namespace tffreeze::cli {

void add_convert(CLI::App& app, Action* action) {
  auto* cmd = app.add_subcommand("convert", "Write a model's graph as binary .pb or text .pbtxt (by OUT's extension; '-' = text to stdout)");
  auto in = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto tags = std::make_shared<std::vector<std::string>>();
  cmd->add_option("input", *in, "Any model tffreeze reads")->required();
  cmd->add_option("output", *out, "OUT.pb, OUT.pbtxt or -")->required();
  cmd->add_option("--tags", *tags, "SavedModel meta graph tags (default: serve)")->delimiter(',');
  cmd->callback([=] {
    *action = [=] {
      refuse_overwriting_input(*out, {*in});
      io::Model model = io::load_model(*in, {*tags});
      io::save_graph(model.graph(), *out);
      if (*out != "-") std::cerr << "wrote " << *out << " (" << model.graph().node_size() << " nodes)\n";
      return 0;
    };
  });
}

}  // namespace tffreeze::cli
