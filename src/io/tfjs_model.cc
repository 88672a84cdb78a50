#include "io/tfjs_model.h"

#include <google/protobuf/util/json_util.h>

#include <map>

#include <cstring>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "common/dtype.h"
#include "common/error.h"
#include "common/file_util.h"
#include "common/tensor.h"
#include "graph/default_attrs.h"

namespace tffreeze::io {
namespace {

using json = nlohmann::json;

// Protobuf's JSON mapping is what the TF.js converter writes for modelTopology and signature.
void parse_proto_json(const json& value, google::protobuf::Message* msg, const std::string& path, const char* what) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto status = google::protobuf::util::JsonStringToMessage(value.dump(), msg, options);
  if (!status.ok()) throw_bad_input(path, std::string("invalid ") + what + ": " + std::string(status.message()));
}

struct WeightSpec {
  std::string name;
  tf::TensorShapeProto shape;
  tf::DataType dtype;          // of the resulting tensor
  tf::DataType stored;         // of the bytes in the shard (differs when quantized)
  double scale = 1, min = 0;   // affine uint8/uint16 dequantization
  std::int64_t count = 0;      // elements
};

WeightSpec parse_weight_spec(const json& w, const std::string& path) {
  WeightSpec spec;
  if (!w.is_object() || !w.contains("name") || !w["name"].is_string()) throw_bad_input(path, "weightsManifest entry without a name");
  spec.name = w["name"].get<std::string>();
  const std::string where = "weight '" + spec.name + "': ";
  if (!w.contains("shape") || !w["shape"].is_array()) throw_bad_input(path, where + "missing shape");
  for (const auto& d : w["shape"]) {
    if (!d.is_number_integer() || d.get<std::int64_t>() < 0) throw_bad_input(path, where + "bad dimension " + d.dump());
    spec.shape.add_dim()->set_size(d.get<std::int64_t>());
  }
  auto count = num_elements(spec.shape);
  if (!count) throw_bad_input(path, where + "shape " + shape_string(spec.shape) + " is too large");
  spec.count = *count;
  std::string dtype = w.value("dtype", std::string("float32"));
  auto parsed = parse_dtype(dtype);
  if (!parsed || (dtype_size(*parsed) == 0 && *parsed != tf::DT_STRING)) throw_unsupported(path, where + "dtype '" + dtype + "'");
  spec.dtype = spec.stored = *parsed;
  if (w.contains("quantization")) {
    const auto& q = w["quantization"];
    std::string qdtype = q.value("dtype", std::string());
    auto qparsed = parse_dtype(qdtype);
    if (!qparsed || (*qparsed != tf::DT_HALF && *qparsed != tf::DT_UINT8 && *qparsed != tf::DT_UINT16)) {
      throw_unsupported(path, where + "quantization dtype '" + qdtype + "'");
    }
    spec.stored = *qparsed;
    if (*qparsed != tf::DT_HALF) {
      spec.scale = q.value("scale", 1.0);
      spec.min = q.value("min", 0.0);
    }
    if (spec.dtype != tf::DT_FLOAT) throw_unsupported(path, where + "quantized weights of dtype " + dtype);
  }
  return spec;
}

// Decodes one weight's bytes into a TensorProto. `bytes` starts at the weight; returns how
// many bytes it used.
std::size_t decode_weight(const WeightSpec& spec, std::string_view bytes, tf::TensorProto* t, const std::string& path) {
  const std::string where = "weight '" + spec.name + "': ";
  t->set_dtype(spec.dtype);
  *t->mutable_tensor_shape() = spec.shape;
  auto n = static_cast<std::size_t>(spec.count);
  if (spec.stored == tf::DT_STRING) {  // each: uint32 little-endian length, then bytes
    std::size_t pos = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (bytes.size() - pos < 4) throw_bad_input(path, where + "weight data ends early");
      std::uint32_t len;
      std::memcpy(&len, bytes.data() + pos, 4);
      pos += 4;
      if (bytes.size() - pos < len) throw_bad_input(path, where + "string longer than the weight data");
      t->add_string_val(std::string(bytes.substr(pos, len)));
      pos += len;
    }
    return pos;
  }
  auto esize = static_cast<std::size_t>(dtype_size(spec.stored));
  if (n > bytes.size() / esize) {
    throw_bad_input(path, where + "needs " + std::to_string(n) + " x " + std::to_string(esize) + " bytes, weight data has " +
                              std::to_string(bytes.size()));
  }
  std::size_t used = n * esize;
  if (spec.stored == spec.dtype) {
    t->set_tensor_content(std::string(bytes.substr(0, used)));
    return used;
  }
  std::string out(n * sizeof(float), '\0');
  auto* dst = reinterpret_cast<float*>(out.data());
  const auto* src = reinterpret_cast<const unsigned char*>(bytes.data());
  for (std::size_t i = 0; i < n; ++i) {
    float v;
    if (spec.stored == tf::DT_HALF) {
      std::uint16_t h;
      std::memcpy(&h, src + 2 * i, 2);
      v = half_to_float(h);
    } else if (spec.stored == tf::DT_UINT8) {
      v = static_cast<float>(src[i] * spec.scale + spec.min);
    } else {
      std::uint16_t q;
      std::memcpy(&q, src + 2 * i, 2);
      v = static_cast<float>(q * spec.scale + spec.min);
    }
    std::memcpy(dst + i, &v, sizeof v);
  }
  t->set_tensor_content(std::move(out));
  return used;
}

}  // namespace

tf::MetaGraphDef load_tfjs_graph_model(const std::string& json_path) {
  std::string text = read_file(json_path, 512u << 20);
  json model = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (model.is_discarded() || !model.is_object()) throw_bad_input(json_path, model.is_discarded() ? "not a TF.js model: invalid JSON" : "not a TF.js model: JSON is not an object");
  if (!model.contains("modelTopology") || !model["modelTopology"].is_object()) {
    throw_bad_input(json_path, "not a TF.js graph model: no modelTopology object");
  }
  if (model.contains("format") && model["format"] != "graph-model") {
    throw_unsupported(json_path, "TF.js " + model["format"].dump() + " (only graph models are supported)");
  }
  tf::MetaGraphDef meta;
  parse_proto_json(model["modelTopology"], meta.mutable_graph_def(), json_path, "modelTopology");
  const json* signature = nullptr;
  if (model.contains("signature")) signature = &model["signature"];
  else if (model.contains("userDefinedMetadata") && model["userDefinedMetadata"].contains("signature"))
    signature = &model["userDefinedMetadata"]["signature"];
  if (signature && signature->is_object()) {
    parse_proto_json(*signature, &(*meta.mutable_signature_def())["serving_default"], json_path, "signature");
  }

  std::unordered_map<std::string, tf::NodeDef*> consts;
  for (auto& node : *meta.mutable_graph_def()->mutable_node()) {
    if (node.op() == "Const") consts[node.name()] = &node;
  }
  const std::string dir = parent_dir(json_path);
  const json manifest = model.value("weightsManifest", json::array());
  if (!manifest.is_array()) throw_bad_input(json_path, "weightsManifest is not an array");
  for (const auto& group : manifest) {
    if (!group.is_object() || !group.contains("paths") || !group["paths"].is_array()) {
      throw_bad_input(json_path, "weightsManifest group without paths");
    }
    std::string data;  // a group's shards are one byte stream
    for (const auto& p : group["paths"]) {
      if (!p.is_string()) throw_bad_input(json_path, "weightsManifest path is not a string");
      data += read_file(join_path(dir, p.get<std::string>()));
    }
    std::string_view rest(data);
    for (const auto& w : group.value("weights", json::array())) {
      WeightSpec spec = parse_weight_spec(w, json_path);
      auto it = consts.find(spec.name);
      if (it == consts.end()) throw_bad_input(json_path, "weight '" + spec.name + "' has no Const node in modelTopology");
      tf::NodeDef* node = it->second;
      auto& attrs = *node->mutable_attr();
      std::size_t used = decode_weight(spec, rest, attrs["value"].mutable_tensor(), json_path);
      attrs["dtype"].set_type(spec.dtype);
      rest.remove_prefix(used);
    }
  }
  // The converter leaves attrs out (T on its Prelu and fused ops, num_args, defaults): TF.js
  // does not need them, every other reader does.
  graph::infer_attributes_from_inputs(meta.mutable_graph_def());
  graph::add_default_attributes(meta.mutable_graph_def());
  return meta;
}

namespace {

// Appends a tensor's values in the dtype TF.js will read; returns that dtype's TF.js name.
std::string append_weight(const Tensor& t, std::string* shard, const std::string& node) {
  const std::int64_t n = t.num_elements();
  switch (t.dtype) {
    case tf::DT_FLOAT:
    case tf::DT_INT32:
      shard->append(t.bytes);
      return t.dtype == tf::DT_FLOAT ? "float32" : "int32";
    case tf::DT_BOOL:
      shard->append(t.bytes);
      return "bool";
    case tf::DT_DOUBLE:
    case tf::DT_HALF:
    case tf::DT_BFLOAT16:
      for (std::int64_t i = 0; i < n; ++i) {
        float v = static_cast<float>(element_as_double(t, i));
        shard->append(reinterpret_cast<const char*>(&v), 4);
      }
      return "float32";
    case tf::DT_INT64:
    case tf::DT_INT16:
    case tf::DT_INT8:
    case tf::DT_UINT8:
    case tf::DT_UINT16:
      for (std::int64_t i = 0; i < n; ++i) {
        auto v = static_cast<std::int32_t>(element_as_double(t, i));
        shard->append(reinterpret_cast<const char*>(&v), 4);
      }
      return "int32";
    case tf::DT_STRING:
      for (const auto& s : t.strings) {
        auto len = static_cast<std::uint32_t>(s.size());
        shard->append(reinterpret_cast<const char*>(&len), 4);
        shard->append(s);
      }
      return "string";
    default:
      throw Error(ExitCode::kUnsupported, "node '" + node + "': TF.js cannot hold constants of dtype " + dtype_name(t.dtype));
  }
}

}  // namespace

void save_tfjs_graph_model(const tf::GraphDef& graph, const std::string& json_path) {
  tf::GraphDef topology = graph;
  std::string shard;
  json weights = json::array();
  auto move_to_weights = [&](tf::NodeDef& node) {
    if (node.op() != "Const") return;
    auto it = node.mutable_attr()->find("value");
    if (it == node.mutable_attr()->end()) return;
    Tensor t = tensor_from_proto(it->second.tensor(), "node '" + node.name() + "'");
    std::string dtype = append_weight(t, &shard, node.name());
    weights.push_back({{"name", node.name()}, {"shape", t.shape}, {"dtype", dtype}});
    tf::TensorProto header;  // the topology keeps dtype and shape only
    header.set_dtype(it->second.tensor().dtype());
    *header.mutable_tensor_shape() = it->second.tensor().tensor_shape();
    *it->second.mutable_tensor() = header;
  };
  for (auto& node : *topology.mutable_node()) move_to_weights(node);
  // Constants inside functions (While bodies) become weights too, named "<function>/<node>"
  // as the TF.js converter names them, since TF.js looks every Const up among the weights.
  for (auto& f : *topology.mutable_library()->mutable_function()) {
    std::map<std::string, std::string> renamed;
    for (auto& node : *f.mutable_node_def()) {
      if (node.op() != "Const") continue;
      renamed[node.name()] = f.signature().name() + "/" + node.name();
      node.set_name(renamed[node.name()]);
      move_to_weights(node);
    }
    auto rename_ref = [&](std::string* ref) {
      const bool control = !ref->empty() && (*ref)[0] == '^';
      std::string body = control ? ref->substr(1) : *ref;
      auto colon = body.find(':');
      auto it = renamed.find(body.substr(0, colon));
      if (it != renamed.end()) *ref = (control ? "^" : "") + it->second + (colon == std::string::npos ? "" : body.substr(colon));
    };
    for (auto& node : *f.mutable_node_def())
      for (auto& in : *node.mutable_input()) rename_ref(&in);
    for (auto& [name, value] : *f.mutable_ret()) rename_ref(&value);
  }
  std::string topology_json;
  google::protobuf::util::JsonPrintOptions options;
  auto status = google::protobuf::util::MessageToJsonString(topology, &topology_json, options);
  if (!status.ok()) throw Error(ExitCode::kBadInput, json_path + ": cannot encode the graph as JSON: " + std::string(status.message()));
  std::string stem = file_name(json_path);
  if (auto dot = stem.rfind('.'); dot != std::string::npos) stem = stem.substr(0, dot);
  const std::string shard_name = stem + ".weights.bin";
  json topology_object = json::parse(topology_json);
  if (!topology_object.contains("versions")) topology_object["versions"] = json::object();  // TF.js reads versions.producer
  if (!topology_object["versions"].contains("producer")) topology_object["versions"]["producer"] = graph.versions().producer();
  json model = {{"format", "graph-model"},
                {"generatedBy", "tffreeze"},
                {"convertedBy", std::string("tffreeze ") + TFFREEZE_VERSION},
                {"modelTopology", topology_object},
                {"weightsManifest", json::array({{{"paths", json::array({shard_name})}, {"weights", weights}}})}};
  write_file_atomic(join_path(parent_dir(json_path), shard_name), shard);
  write_file_atomic(json_path, model.dump());
}

}  // namespace tffreeze::io
