#include "support.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace tffreeze::test {
namespace {

std::string testdata_root() {
  const char* env = std::getenv("TFFREEZE_TESTDATA");
  std::string root = env && *env ? env : TFFREEZE_DEFAULT_TESTDATA;
  std::error_code ec;
  return fs::is_directory(root, ec) ? fs::canonical(root).string() : "";
}

std::string slurp_fd(int fd) {
  std::string s;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<std::size_t>(n));
  return s;
}

}  // namespace

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

std::string fixture(const std::string& relative) {
  std::string root = testdata_root();
  if (root.empty()) return "";
  std::string path = root + "/" + relative;
  // Checkpoint prefixes name no file themselves.
  for (const char* suffix : {"", ".index", "-00000-of-00001"})
    if (fs::exists(path + suffix)) return path;
  return "";
}

std::vector<std::string> fixtures_with_suffix(const std::vector<std::string>& suffixes) {
  std::vector<std::string> out;
  std::string root = testdata_root();
  if (root.empty()) return out;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    std::string p = entry.path().string();
    for (const auto& s : suffixes) {
      if (p.size() >= s.size() && p.compare(p.size() - s.size(), s.size(), s) == 0) {
        out.push_back(p);
        break;
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

CliResult run_cli(const std::vector<std::string>& args, unsigned timeout_seconds) {
  std::vector<std::string> argv = {TFFREEZE_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, timeout_seconds);
}

CliResult run_process(const std::vector<std::string>& args, unsigned timeout_seconds) {
  std::string dir = temp_dir();
  std::string out_path = dir + "/stdout", err_path = dir + "/stderr";
  pid_t pid = ::fork();
  if (pid == 0) {
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = ::open("/dev/null", O_RDONLY);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::dup2(in, 0);
    std::vector<char*> argv;
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (timeout_seconds > 0) ::alarm(timeout_seconds);  // survives exec: SIGALRM ends a hang
    ::execvp(copy[0].c_str(), argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  CliResult r;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.out = read_bytes(out_path);
  r.err = read_bytes(err_path);
  return r;
}

std::string temp_dir() {
  static std::atomic<int> counter{0};
  const char* base = std::getenv("TFFREEZE_TEST_TMP");
  fs::path root = base && *base ? fs::path(base) : fs::temp_directory_path() / "tffreeze-tests";
  fs::path dir = root / (std::to_string(::getpid()) + "-" + std::to_string(counter++));
  fs::create_directories(dir);
  return dir.string();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

tf::NodeDef* add_node(tf::GraphDef* g, const std::string& name, const std::string& op, std::vector<std::string> inputs) {
  auto* n = g->add_node();
  n->set_name(name);
  n->set_op(op);
  for (auto& i : inputs) n->add_input(i);
  if (op != "NoOp") (*n->mutable_attr())["T"].set_type(tf::DT_FLOAT);
  return n;
}

tf::NodeDef* add_const(tf::GraphDef* g, const std::string& name, std::vector<float> values, std::vector<long long> shape) {
  auto* n = g->add_node();
  n->set_name(name);
  n->set_op("Const");
  (*n->mutable_attr())["dtype"].set_type(tf::DT_FLOAT);
  auto* t = (*n->mutable_attr())["value"].mutable_tensor();
  t->set_dtype(tf::DT_FLOAT);
  for (auto d : shape) t->mutable_tensor_shape()->add_dim()->set_size(d);
  for (float v : values) t->add_float_val(v);
  return n;
}

tf::NodeDef* add_placeholder(tf::GraphDef* g, const std::string& name, std::vector<long long> shape) {
  auto* n = g->add_node();
  n->set_name(name);
  n->set_op("Placeholder");
  (*n->mutable_attr())["dtype"].set_type(tf::DT_FLOAT);
  auto* s = (*n->mutable_attr())["shape"].mutable_shape();
  for (auto d : shape) s->add_dim()->set_size(d);
  return n;
}

std::string file_safe(std::string name) {
  for (char& ch : name)
    if (ch == '/' || ch == ':') ch = '_';
  return name;
}

}  // namespace tffreeze::test
