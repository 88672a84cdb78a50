#include "graph/tensor_ref.h"

#include <charconv>

namespace tffreeze::graph {

TensorRef parse_input(std::string_view s) {
  TensorRef ref;
  if (!s.empty() && s.front() == '^') {
    ref.control = true;
    s.remove_prefix(1);
  }
  auto parse_index = [&](std::string_view digits) {
    int value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty() || value < 0) ref.valid = false;
    return value;
  };
  auto colon = s.find(':');
  if (colon == std::string_view::npos) {
    ref.node = s;
  } else {
    ref.node = s.substr(0, colon);
    std::string_view rest = s.substr(colon + 1);
    auto second = rest.find(':');
    if (second == std::string_view::npos) {
      ref.index = parse_index(rest);
    } else {
      ref.arg = rest.substr(0, second);
      ref.index = parse_index(rest.substr(second + 1));
      if (ref.arg.empty()) ref.valid = false;
    }
    if (ref.control) ref.valid = false;  // "^a:1" is not a thing
  }
  if (ref.node.empty()) ref.valid = false;
  return ref;
}

std::string tensor_name(std::string_view node, int index) {
  std::string s(node);
  if (index != 0) s += ":" + std::to_string(index);
  return s;
}

}  // namespace tffreeze::graph
