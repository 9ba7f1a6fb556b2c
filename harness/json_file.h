#pragma once
// Reading a JSON file for a reader: InputError naming the file when it cannot
// be opened or does not parse, with the parser's position and reason (not just
// "a parse error"), so the user can find the broken byte; a key given twice in
// one object is an error (file_io.h's strict parse).

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace editgate::harness {

// `what` names the file's role in the message ("a gate spec JSON file").
nlohmann::json read_json_file(const std::filesystem::path& path, const std::string& what = "a readable JSON file");

}  // namespace editgate::harness
