#pragma once
// JSON in and out. Reading a JSON file for a reader: InputError naming the file
// when it cannot be opened or does not parse, with the parser's position and
// reason (not just "a parse error"), so the user can find the broken byte; a key
// given twice in one object is an error (file_io.h's strict parse).
// Writing: JSON text that is valid UTF-8 whatever its strings hold.

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace editgate::harness {

// `what` names the file's role in the message ("a gate spec JSON file").
nlohmann::json read_json_file(const std::filesystem::path& path, const std::string& what = "a readable JSON file");

// The text of `j` for stdout or a file, indented by `indent` (-1: one line).
// Strings need not be valid UTF-8 (a byte-level BPE token or a model's output
// can stop inside a character): invalid sequences are written as U+FFFD, where
// a plain dump() throws and would turn a finished run into exit 3.
std::string json_text(const nlohmann::json& j, int indent = 2);

}  // namespace editgate::harness
