#include "io/proto_io.h"
#include "tffreeze/tf/graph.pb.h"
#include "common/file_util.h"

#include <google/protobuf/io/zero_copy_stream_impl.h>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/message.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/unknown_field_set.h>

#include <cstdint>

#include "common/varint.h"
#include <limits>

namespace tffreeze::io {
namespace gp = google::protobuf;
namespace {

// Nesting deeper than this is refused: TF's own graphs nest a few levels (functions in
// attributes); hostile inputs nest thousands.
constexpr int kRecursionLimit = 100;

bool read_varint(std::string_view b, std::size_t* pos, std::uint64_t* out) {
  std::string_view rest = b.substr(*pos);
  if (!get_varint64(&rest, out)) return false;
  *pos = b.size() - rest.size();
  return true;
}

// Walks the top-level wire structure to find where it breaks. Only used to explain a failure.
std::string describe_wire_error(std::string_view b) {
  std::size_t pos = 0;
  while (pos < b.size()) {
    std::size_t field_start = pos;
    std::uint64_t tag = 0;
    if (!read_varint(b, &pos, &tag)) return "truncated protobuf at byte " + std::to_string(field_start) + ": incomplete field tag";
    auto field = tag >> 3;
    auto wire = tag & 7;
    if (field == 0) return "invalid protobuf at byte " + std::to_string(field_start) + ": field number 0";
    std::uint64_t len = 0;
    switch (wire) {
      case 0:
        if (!read_varint(b, &pos, &len)) return "truncated protobuf at byte " + std::to_string(pos) + ": incomplete varint of field " + std::to_string(field);
        break;
      case 1:
        if (b.size() - pos < 8) return "truncated protobuf at byte " + std::to_string(pos) + ": field " + std::to_string(field) + " needs 8 bytes";
        pos += 8;
        break;
      case 5:
        if (b.size() - pos < 4) return "truncated protobuf at byte " + std::to_string(pos) + ": field " + std::to_string(field) + " needs 4 bytes";
        pos += 4;
        break;
      case 2:
        if (!read_varint(b, &pos, &len)) return "truncated protobuf at byte " + std::to_string(pos) + ": incomplete length of field " + std::to_string(field);
        if (len > b.size() - pos) {
          return "truncated protobuf at byte " + std::to_string(pos) + ": field " + std::to_string(field) + " claims " +
                 std::to_string(len) + " bytes, " + std::to_string(b.size() - pos) + " remain";
        }
        pos += len;
        break;
      default:
        return "invalid protobuf at byte " + std::to_string(field_start) + ": wire type " + std::to_string(wire) + " of field " + std::to_string(field);
    }
  }
  return "invalid protobuf: the fields do not match the expected message";
}

class FirstErrorCollector : public gp::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (first_.empty()) first_ = "line " + std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " + message;
  }
  void AddWarning(int, int, const std::string&) override {}
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

// Our package is tffreeze.tf; users know the messages as tensorflow.*.
std::string tf_names(std::string s) {
  const std::string ours = "tffreeze.tf.";
  for (auto p = s.find(ours); p != std::string::npos; p = s.find(ours, p)) s.replace(p, ours.size(), "tensorflow.");
  return s;
}

int count_unknown(const gp::Message& msg, int depth) {
  if (depth > kRecursionLimit) return 0;
  const gp::Reflection* refl = msg.GetReflection();
  int n = refl->GetUnknownFields(msg).field_count();
  std::vector<const gp::FieldDescriptor*> fields;
  refl->ListFields(msg, &fields);
  // A NodeDef's attr map through the typed API: reflection on a map field makes a copy of every
  // entry, weights included.
  const auto* node = dynamic_cast<const tf::NodeDef*>(&msg);
  if (node)
    for (const auto& [key, value] : node->attr()) n += count_unknown(value, depth + 1);
  for (const auto* f : fields) {
    if (f->cpp_type() != gp::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (node && f->is_map()) continue;
    if (f->is_repeated()) {
      for (int i = 0, e = refl->FieldSize(msg, f); i < e; ++i) n += count_unknown(refl->GetRepeatedMessage(msg, f, i), depth + 1);
    } else {
      n += count_unknown(refl->GetMessage(msg, f), depth + 1);
    }
  }
  return n;
}

}  // namespace

bool parse_binary(std::string_view bytes, gp::Message* msg, std::string* why) {
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    *why = "larger than the 2 GiB protobuf limit";
    return false;
  }
  gp::io::CodedInputStream in(reinterpret_cast<const std::uint8_t*>(bytes.data()), static_cast<int>(bytes.size()));
  in.SetRecursionLimit(kRecursionLimit);
  if (msg->ParseFromCodedStream(&in) && in.ConsumedEntireMessage()) return true;
  *why = describe_wire_error(bytes);
  msg->Clear();
  return false;
}

bool parse_text(std::string_view text, gp::Message* msg, std::string* why) {
  gp::TextFormat::Parser parser;
  FirstErrorCollector errors;
  parser.RecordErrorsTo(&errors);
  parser.SetRecursionLimit(kRecursionLimit);
  gp::io::ArrayInputStream in(text.data(), static_cast<int>(std::min<std::size_t>(text.size(), std::numeric_limits<int>::max())));
  if (parser.Parse(&in, msg)) return true;
  *why = tf_names(errors.first().empty() ? "text format does not parse" : errors.first());
  msg->Clear();
  return false;
}

std::string to_binary(const gp::Message& msg) {
  std::string out;
  {
    gp::io::StringOutputStream stream(&out);
    gp::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    msg.SerializeToCodedStream(&coded);
  }
  return out;
}

void write_binary_atomic(const gp::Message& msg, const std::string& path) {
  if (path == "-") return write_file_atomic(path, to_binary(msg));
  write_file_atomic_with(path, [&](int fd) {
    gp::io::FileOutputStream stream(fd);
    bool ok;
    {
      gp::io::CodedOutputStream coded(&stream);
      coded.SetSerializationDeterministic(true);
      ok = msg.SerializeToCodedStream(&coded) && !coded.HadError();
    }
    return stream.Flush() && ok;
  });
}

std::string to_text(const gp::Message& msg) {
  std::string out;
  gp::TextFormat::Printer printer;
  printer.SetExpandAny(false);
  printer.PrintToString(msg, &out);
  return out;
}

int count_unknown_fields(const gp::Message& msg) { return count_unknown(msg, 0); }

bool looks_like_text(std::string_view bytes) {
  std::size_t n = std::min<std::size_t>(bytes.size(), 4096);
  if (n == 0) return false;
  for (std::size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '\n' || c == '\r' || c == '\t') continue;
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace tffreeze::io
