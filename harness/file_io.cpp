#include "harness/file_io.h"

#include <fstream>
#include <set>

#include "harness/sha256.h"

namespace editgate::harness {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path, const std::string& what, std::uintmax_t max_bytes) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) throw InputError(path.string(), "", what, "no such file");
  if (fs::is_directory(status)) throw InputError(path.string(), "", what, "a directory");
  const auto size = fs::file_size(path, ec);
  if (!ec && size > max_bytes) {
    throw InputError(path.string(), "", what + " of at most " + std::to_string(max_bytes) + " bytes",
                     std::to_string(size) + " bytes", "is this the right file?");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string(), "", what, "a file that cannot be opened");
  std::string bytes;
  if (!ec) bytes.reserve(static_cast<size_t>(size));
  bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) throw InputError(path.string(), "", what, "a read error after " + std::to_string(bytes.size()) + " bytes");
  return bytes;
}

namespace {

// "[json.exception.parse_error.101] parse error at line 3, column 5: ..." -> the part a user can act on.
std::string parser_reason(const nlohmann::json::exception& e) {
  std::string reason = e.what();
  if (const auto at = reason.find("] "); reason.starts_with("[json.exception") && at != std::string::npos) {
    reason = reason.substr(at + 2);
  }
  return reason;
}

template <typename Json>
Json parse_strict(std::string_view text, const std::string& file, const DuplicateKeyError& on_duplicate,
                  const std::string& field) {
  // nlohmann stops at a NUL byte as if the input ended there; JSON never holds a raw one.
  if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
    throw InputError(file, field, "valid JSON", "a NUL byte at offset " + std::to_string(nul), "corrupt file?");
  }
  std::vector<std::set<std::string>> seen;  // keys of each open object
  std::vector<std::string> current;         // the latest key of each open object
  auto on_event = [&](int /*depth*/, typename Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::object_start) {
      seen.emplace_back();
      current.emplace_back();
    } else if (event == Json::parse_event_t::object_end) {
      seen.pop_back();
      current.pop_back();
    } else if (event == Json::parse_event_t::key) {
      const auto& key = parsed.template get_ref<const std::string&>();
      if (!seen.back().insert(key).second) {
        DuplicateKey d{{current.begin(), current.end() - 1}, key};
        if (on_duplicate) throw on_duplicate(d);
        std::string path;
        for (const auto& k : d.enclosing) path += k + ".";
        throw InputError(file, path + key, "each key once per object", "a duplicate key '" + key + "'");
      }
      current.back() = key;
    }
    return true;
  };
  try {
    return Json::parse(text.begin(), text.end(), on_event);
  } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for numbers that overflow
    throw InputError(file, field, "valid JSON", parser_reason(e), "truncated or hand-edited?");
  }
}

}  // namespace

nlohmann::json parse_json_strict(std::string_view text, const std::string& file, const DuplicateKeyError& on_duplicate,
                                 const std::string& field) {
  return parse_strict<nlohmann::json>(text, file, on_duplicate, field);
}

nlohmann::ordered_json parse_ordered_json_strict(std::string_view text, const std::string& file) {
  return parse_strict<nlohmann::ordered_json>(text, file, {}, "");
}

std::string file_sha256(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string(), "", "a readable file to hash", "a file that cannot be opened");
  Sha256 h;
  std::vector<char> buf(1 << 16);
  while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
    h.update(buf.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) throw InputError(path.string(), "", "a readable file to hash", "a read error");
  return h.hex_digest();
}

void write_file_checked(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw InputError(path.string(), "", "a writable file", "a write error", "disk full or read-only?");
}

}  // namespace editgate::harness
