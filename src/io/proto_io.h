// Protobuf bytes <-> messages, with errors that say where and what: binary parse failures name
// the byte offset where the wire structure breaks, text ones the line and column.
#pragma once

#include <string>
#include <string_view>

namespace google::protobuf {
class Message;
}

namespace tffreeze::io {

// Parses binary protobuf. On failure returns false and sets *why (e.g. "truncated protobuf at
// byte 1234: field 1 claims 5000 bytes, 300 remain").
bool parse_binary(std::string_view bytes, google::protobuf::Message* msg, std::string* why);

// Parses protobuf text format. On failure returns false and sets *why ("line 3:7: ...").
bool parse_text(std::string_view text, google::protobuf::Message* msg, std::string* why);

// Deterministic serialization (map entries sorted), so equal messages give equal bytes.
std::string to_binary(const google::protobuf::Message& msg);
// Deterministic binary serialization streamed into `path`, written atomically.
void write_binary_atomic(const google::protobuf::Message& msg, const std::string& path);
std::string to_text(const google::protobuf::Message& msg);

// Counts fields our schema does not know, anywhere in msg. Non-zero means the schema misses a
// field TensorFlow wrote, and text output would drop it.
int count_unknown_fields(const google::protobuf::Message& msg);

// Heuristic: the first bytes look like protobuf text, not binary.
bool looks_like_text(std::string_view bytes);

}  // namespace tffreeze::io
