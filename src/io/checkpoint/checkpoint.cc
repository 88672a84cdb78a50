#include "io/checkpoint/checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <regex>

#include "common/error.h"
#include "common/file_util.h"
#include "io/checkpoint/bundle_reader.h"
#include "io/checkpoint/slices_reader.h"
#include "io/checkpoint/sstable.h"
#include "io/proto_io.h"
#include "tffreeze/tf/checkpoint.pb.h"

namespace tffreeze::io::checkpoint {
namespace {

namespace fs = std::filesystem;

// V1 checkpoints written sharded: PREFIX-00000-of-00002, PREFIX-00001-of-00002.
std::vector<std::string> v1_shards(const std::string& prefix) {
  std::vector<std::string> files;
  fs::path p(prefix);
  fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return files;
  const std::regex pattern(std::regex_replace(p.filename().string(), std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                           R"(-\d{5}-of-\d{5})");
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && std::regex_match(entry.path().filename().string(), pattern)) files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The "checkpoint" state file names the latest checkpoint; its paths may be absolute paths of
// the machine that trained, so a missing absolute path falls back to its file name here.
std::string from_state_file(const std::string& dir) {
  const std::string state_path = join_path(dir, "checkpoint");
  tf::CheckpointState state;
  std::string why;
  if (!parse_text(read_file(state_path, 1 << 20), &state, &why)) throw_bad_input(state_path, "not a checkpoint state file: " + why);
  if (state.model_checkpoint_path().empty()) throw_bad_input(state_path, "names no model_checkpoint_path");
  fs::path named(state.model_checkpoint_path());
  if (named.is_relative()) return join_path(dir, named.string());
  std::error_code ec;
  if (fs::exists(named.string() + ".index", ec) || fs::exists(named, ec)) return named.string();
  return join_path(dir, named.filename().string());
}

}  // namespace

const Entry* Checkpoint::find(const std::string& name) const {
  const auto& all = entries();
  auto it = std::lower_bound(all.begin(), all.end(), name, [](const Entry& e, const std::string& n) { return e.name < n; });
  return it != all.end() && it->name == name ? &*it : nullptr;
}

bool Checkpoint::stream(const std::string&, const std::function<void(std::string_view)>&) const { return false; }
bool Checkpoint::streamable(const Entry&) const { return false; }

std::string resolve_checkpoint_prefix(const std::string& path) {
  if (is_directory(path)) {
    if (is_regular_file(join_path(path, "checkpoint"))) return from_state_file(path);
    if (is_regular_file(join_path(path, "variables.index"))) return join_path(path, "variables");
    if (is_regular_file(join_path(path, "variables/variables.index"))) return join_path(path, "variables/variables");
    if (is_directory(join_path(path, "variables")) || is_regular_file(join_path(path, "saved_model.pb"))) {
      throw_bad_input(path, "SavedModel has no variables (expected variables/variables.index)");
    }
    throw_bad_input(path, "no checkpoint here (no 'checkpoint' state file, no variables.index)");
  }
  const std::string index_suffix = ".index";
  if (path.size() > index_suffix.size() && path.compare(path.size() - index_suffix.size(), index_suffix.size(), index_suffix) == 0) {
    return path.substr(0, path.size() - index_suffix.size());
  }
  static const std::regex data_shard(R"((.*)\.data-\d{5}-of-\d{5})");
  std::smatch m;
  if (std::regex_match(path, m, data_shard)) return m[1].str();
  return path;
}

bool looks_like_checkpoint(const std::string& path) {
  try {
    std::string prefix = resolve_checkpoint_prefix(path);
    return is_regular_file(prefix + ".index") || (is_regular_file(prefix) && is_table_file(prefix)) || !v1_shards(prefix).empty();
  } catch (const Error&) {
    return false;
  }
}

std::unique_ptr<Checkpoint> open_checkpoint(const std::string& path) {
  const std::string prefix = resolve_checkpoint_prefix(path);
  if (is_regular_file(prefix + ".index")) return open_bundle(prefix);
  if (is_regular_file(prefix)) return open_tensor_slices(prefix, {prefix});
  auto shards = v1_shards(prefix);
  if (!shards.empty()) return open_tensor_slices(prefix, shards);
  throw_bad_input(prefix, "no checkpoint: neither " + file_name(prefix) + ".index (V2) nor a V1 checkpoint file exists");
}

}  // namespace tffreeze::io::checkpoint
