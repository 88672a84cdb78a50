#include "io/onnx_file.h"

#include <unistd.h>

#include <cstdio>
#include <vector>

#include "common/error.h"
#include "common/file_util.h"

namespace tffreeze::io {

namespace {

constexpr std::size_t kExternalMinBytes = 1024;

bool write_all(int fd, const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

void set_entry(onnx::TensorProto* t, const std::string& key, const std::string& value) {
  auto* e = t->add_external_data();
  e->set_key(key);
  e->set_value(value);
}

// Streams the large initializers into `data_path` and turns them into references to it.
void move_to_external(onnx::ModelProto* model, const std::string& data_path) {
  std::vector<onnx::TensorProto*> moved;
  for (auto& t : *model->mutable_graph()->mutable_initializer())
    if (t.raw_data().size() >= kExternalMinBytes) moved.push_back(&t);
  write_file_atomic_with(data_path, [&](int fd) {
    for (auto* t : moved)
      if (!write_all(fd, t->raw_data())) return false;
    return true;
  });
  std::size_t offset = 0;
  for (auto* t : moved) {
    const std::size_t length = t->raw_data().size();
    set_entry(t, "location", file_name(data_path));
    set_entry(t, "offset", std::to_string(offset));
    set_entry(t, "length", std::to_string(length));
    t->set_data_location(onnx::TensorProto::EXTERNAL);
    t->clear_raw_data();
    offset += length;
  }
}

}  // namespace

void save_onnx(onnx::ModelProto model, const std::string& path, bool external_data) {
  const std::string data_path = path + ".data";
  const bool external = external_data || model.ByteSizeLong() >= kOnnxExternalDataThreshold;
  if (external) move_to_external(&model, data_path);
  try {
    std::string bytes;
    if (!model.SerializeToString(&bytes)) throw Error(ExitCode::kInternal, path + ": the ONNX model does not serialize");
    write_file_atomic(path, bytes);
  } catch (...) {
    if (external) std::remove(data_path.c_str());
    throw;
  }
}

onnx::ModelProto load_onnx(const std::string& path) {
  const std::string bytes = read_file(path);
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes)) throw_bad_input(path, "not an ONNX model (the bytes do not parse as a ModelProto)");
  if (!model.has_graph() || model.opset_import_size() == 0) throw_bad_input(path, "not an ONNX model (no graph or no opset)");
  return model;
}

bool looks_like_onnx(const std::string& path) { return extension(path) == ".onnx"; }

}  // namespace tffreeze::io
