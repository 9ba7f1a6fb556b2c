#pragma once
// The one way editgate reads and writes small files: whole-file reads with the
// open, size and read checked (InputError naming the file, never an empty
// string for an unreadable file), JSON parsed strictly (a key given twice in
// any object is an error, not "the last one wins"; a raw NUL byte is an error,
// not the end of the text), streamed sha256 of a file, and checked writes of a
// file that lives inside a directory being written atomically. Atomic renames
// are atomic_file.h's; formats are their readers'.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/input_error.h"

namespace editgate::harness {

// Larger text or JSON files than this are refused before they are read: no
// editgate text input is near it, and a mistaken path to a weights file should
// not be slurped into memory.
inline constexpr std::uintmax_t kMaxTextFileBytes = std::uintmax_t{1} << 30;

/// The bytes of `path`. `what` names its role for the message ("a gate spec JSON
/// file"). InputError when it is missing, a directory, larger than `max_bytes`,
/// or cannot be read to the end.
std::string read_file(const std::filesystem::path& path, const std::string& what = "a readable file",
                      std::uintmax_t max_bytes = kMaxTextFileBytes);

/// A key found twice in one JSON object: the keys of the objects around it
/// (outermost first) and the key itself.
struct DuplicateKey {
  std::vector<std::string> enclosing;
  std::string key;
};
/// Builds the error for a duplicate key (a reader names the field its own way).
using DuplicateKeyError = std::function<InputError(const DuplicateKey&)>;

/// Parses `text` as JSON from `file` strictly. InputError on a NUL byte, a
/// syntax error or number overflow (naming `field`, with the parser's position),
/// and on a duplicate key (by `on_duplicate`, else naming the key's path).
nlohmann::json parse_json_strict(std::string_view text, const std::string& file,
                                 const DuplicateKeyError& on_duplicate = {}, const std::string& field = "");
nlohmann::ordered_json parse_ordered_json_strict(std::string_view text, const std::string& file);

/// Lowercase hex sha256 of a file's bytes, streamed. InputError when unreadable.
std::string file_sha256(const std::filesystem::path& path);

/// Writes `bytes` to `path` and checks that every byte reached the file
/// (InputError naming it otherwise: disk full, read-only). For files inside a
/// temporary directory that write_directory_atomic renames into place.
void write_file_checked(const std::filesystem::path& path, std::string_view bytes);

}  // namespace editgate::harness
