#include "graph/op_registry.h"

#include <cctype>
#include <charconv>
#include <stdexcept>
#include <vector>

#include "common/dtype.h"

namespace tffreeze::graph {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Splits on `sep` at bracket depth 0.
std::vector<std::string_view> split_top(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '(' || c == '[' || c == '{') ++depth;
    if (c == ')' || c == ']' || c == '}') --depth;
    if (c == sep && depth == 0) {
      parts.push_back(trim(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  auto last = trim(s.substr(start));
  if (!last.empty() || !parts.empty()) parts.push_back(last);
  return parts;
}

[[noreturn]] void fail(std::string_view spec, const std::string& what) {
  throw std::invalid_argument("op spec '" + std::string(spec.substr(0, 60)) + "': " + what);
}

tf::DataType dtype_or_fail(std::string_view spec, std::string_view name) {
  auto t = parse_dtype(trim(name));
  if (!t) fail(spec, "unknown type '" + std::string(name) + "'");
  return *t;
}

std::string unquote(std::string_view spec, std::string_view s) {
  s = trim(s);
  if (s.size() < 2 || s.front() != '\'' || s.back() != '\'') fail(spec, "expected a quoted string: " + std::string(s));
  return std::string(s.substr(1, s.size() - 2));
}

// Parses a default value literal for an attr of the given type.
void parse_value(std::string_view spec, const std::string& type, std::string_view text, tf::AttrValue* out) {
  text = trim(text);
  if (type.rfind("list(", 0) == 0) {
    std::string inner = type.substr(5, type.size() - 6);
    auto* list = out->mutable_list();
    if (text.size() < 2 || text.front() != '[' || text.back() != ']') fail(spec, "expected a list default");
    for (auto item : split_top(text.substr(1, text.size() - 2), ',')) {
      if (item.empty()) continue;
      tf::AttrValue v;
      parse_value(spec, inner, item, &v);
      if (inner == "int") list->add_i(v.i());
      else if (inner == "float") list->add_f(v.f());
      else if (inner == "bool") list->add_b(v.b());
      else if (inner == "string") list->add_s(v.s());
      else if (inner == "type") list->add_type(v.type());
      else fail(spec, "unsupported list default of " + inner);
    }
    return;
  }
  std::string s(text);
  if (type == "int") {
    long long v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) fail(spec, "bad int default " + s);
    out->set_i(v);
  } else if (type == "float") {
    out->set_f(std::stof(s));
  } else if (type == "bool") {
    if (s != "true" && s != "false") fail(spec, "bad bool default " + s);
    out->set_b(s == "true");
  } else if (type == "string") {
    out->set_s(unquote(spec, s));
  } else if (type == "type") {
    out->set_type(dtype_or_fail(spec, s));
  } else if (type == "shape") {
    if (s != "?") fail(spec, "only the unknown shape '?' is a supported shape default");
    out->mutable_shape()->set_unknown_rank(true);
  } else {
    fail(spec, "no default possible for type " + type);
  }
}

void parse_attr(std::string_view spec, std::string_view text, tf::OpDef* def) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos) fail(spec, "attr without ':'");
  auto* attr = def->add_attr();
  attr->set_name(std::string(trim(text.substr(0, colon))));
  std::string_view rest = text.substr(colon + 1);
  std::string_view default_text;
  if (auto eq = rest.find(" = "); eq != std::string_view::npos) {
    default_text = rest.substr(eq + 3);
    rest = rest.substr(0, eq);
  }
  rest = trim(rest);
  if (auto ge = rest.find(">="); ge != std::string_view::npos) {
    attr->set_has_minimum(true);
    attr->set_minimum(std::stoll(std::string(trim(rest.substr(ge + 2)))));
    rest = trim(rest.substr(0, ge));
  }
  if (!rest.empty() && rest.front() == '{') {
    auto items = split_top(rest.substr(1, rest.size() - 2), ',');
    bool strings = !items.empty() && items[0].front() == '\'';
    attr->set_type(strings ? "string" : "type");
    auto* allowed = attr->mutable_allowed_values()->mutable_list();
    for (auto item : items) {
      if (strings) allowed->add_s(unquote(spec, item));
      else allowed->add_type(dtype_or_fail(spec, item));
    }
  } else {
    attr->set_type(std::string(rest));
  }
  if (!default_text.empty()) parse_value(spec, attr->type(), default_text, attr->mutable_default_value());
}

const tf::OpDef::AttrDef* find_attr_def(const tf::OpDef& def, std::string_view name) {
  for (const auto& a : def.attr())
    if (a.name() == name) return &a;
  return nullptr;
}

void parse_args(std::string_view spec, std::string_view text, google::protobuf::RepeatedPtrField<tf::OpDef::ArgDef>* args,
                const tf::OpDef& def) {
  text = trim(text);
  if (text.size() < 2 || text.front() != '(' || text.back() != ')') fail(spec, "expected '(...)'");
  for (auto item : split_top(text.substr(1, text.size() - 2), ',')) {
    if (item.empty()) continue;
    auto colon = item.find(':');
    if (colon == std::string_view::npos) fail(spec, "arg without ':'");
    auto* arg = args->Add();
    arg->set_name(std::string(trim(item.substr(0, colon))));
    std::string_view type = trim(item.substr(colon + 1));
    if (type.rfind("Ref(", 0) == 0) {
      arg->set_is_ref(true);
      type = trim(type.substr(4, type.size() - 5));
    }
    if (auto star = type.find('*'); star != std::string_view::npos) {
      arg->set_number_attr(std::string(trim(type.substr(0, star))));
      type = trim(type.substr(star + 1));
    }
    if (const auto* a = find_attr_def(def, type)) {
      if (a->type() == "type") arg->set_type_attr(std::string(type));
      else if (a->type() == "list(type)") arg->set_type_list_attr(std::string(type));
      else fail(spec, "arg type attr '" + std::string(type) + "' is not a type");
    } else {
      arg->set_type(dtype_or_fail(spec, type));
    }
  }
}

}  // namespace

void OpRegistry::add(std::string_view spec) {
  tf::OpDef def;
  auto bar = spec.find(" | ");
  std::string_view sig = bar == std::string_view::npos ? spec : spec.substr(0, bar);
  if (bar != std::string_view::npos) {
    for (auto attr : split_top(spec.substr(bar + 3), ';'))
      if (!attr.empty()) parse_attr(spec, attr, &def);
  }
  auto open = sig.find('(');
  auto arrow = sig.find("->");
  if (open == std::string_view::npos || arrow == std::string_view::npos) fail(spec, "expected 'Name(inputs) -> (outputs)'");
  std::string_view name = trim(sig.substr(0, open));
  if (auto flags = name.find('['); flags != std::string_view::npos) {
    std::string_view f = name.substr(flags);
    def.set_is_stateful(f.find("stateful") != std::string_view::npos);
    def.set_is_commutative(f.find("commutative") != std::string_view::npos);
    name = name.substr(0, flags);
  }
  def.set_name(std::string(name));
  parse_args(spec, sig.substr(open, arrow - open), def.mutable_input_arg(), def);
  parse_args(spec, sig.substr(arrow + 2), def.mutable_output_arg(), def);
  ops_[def.name()] = std::move(def);
}

const tf::OpDef* OpRegistry::find(std::string_view op) const {
  auto it = ops_.find(std::string(op));
  return it == ops_.end() ? nullptr : &it->second;
}

const tf::AttrValue* attr_or_default(const tf::OpDef& def, const tf::NodeDef& node, std::string_view name) {
  auto it = node.attr().find(std::string(name));
  if (it != node.attr().end()) return &it->second;
  const auto* a = find_attr_def(def, name);
  return a && a->has_default_value() ? &a->default_value() : nullptr;
}

namespace {
// How many tensors a list of args stands for on this node (number_attr, type_list_attr, or one).
std::optional<int> count_args(const tf::OpDef& def, const tf::NodeDef& node, const google::protobuf::RepeatedPtrField<tf::OpDef::ArgDef>& args) {
  int n = 0;
  for (const auto& arg : args) {
    if (!arg.number_attr().empty()) {
      const auto* v = attr_or_default(def, node, arg.number_attr());
      if (!v || v->value_case() != tf::AttrValue::kI || v->i() < 0 || v->i() > (1 << 20)) return std::nullopt;
      n += static_cast<int>(v->i());
    } else if (!arg.type_list_attr().empty()) {
      const auto* v = attr_or_default(def, node, arg.type_list_attr());
      if (!v || v->value_case() != tf::AttrValue::kList) return std::nullopt;
      n += v->list().type_size();
    } else {
      ++n;
    }
  }
  return n;
}
}  // namespace

std::optional<int> count_outputs(const tf::OpDef& def, const tf::NodeDef& node) { return count_args(def, node, def.output_arg()); }
std::optional<int> count_inputs(const tf::OpDef& def, const tf::NodeDef& node) { return count_args(def, node, def.input_arg()); }

}  // namespace tffreeze::graph
