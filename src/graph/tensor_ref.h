// NodeDef input strings: "node", "node:1", "^node" (control). Inside FunctionDefs also
// "node:out_arg:index" and bare argument names.
#pragma once

#include <string>
#include <string_view>

namespace tffreeze::graph {

struct TensorRef {
  std::string_view node;
  int index = 0;          // output index; for function-body refs, the index within out_arg
  std::string_view arg;   // function bodies only: the output arg name ("" otherwise)
  bool control = false;
  bool valid = true;      // false: malformed (empty name, bad index)
};

TensorRef parse_input(std::string_view input);
// "node" for index 0, else "node:index".
std::string tensor_name(std::string_view node, int index);

}  // namespace tffreeze::graph
