#include "harness/safetensors_reader.h"

#include <ATen/ATen.h>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>

#include "harness/file_io.h"
#include "harness/input_error.h"

namespace editgate::harness {
namespace fs = std::filesystem;
using nlohmann::json;

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host needs byte swapping here");

namespace {

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the reference reader's limit
constexpr const char* kTruncatedHint = "truncated download?";

// Every dtype of huggingface/safetensors (safetensors/src/tensor.rs). F8_E8M0 maps
// to Float8_e8m0fnu as the Python package does; F4 and F6_* are sub-byte and
// their element counts do not match any libtorch type's shape, so they have none.
constexpr SafetensorsDtype kDtypes[] = {
    {"BOOL", 8, at::kBool},
    {"U8", 8, at::kByte},
    {"I8", 8, at::kChar},
    {"I16", 16, at::kShort},
    {"U16", 16, at::kUInt16},
    {"F16", 16, at::kHalf},
    {"BF16", 16, at::kBFloat16},
    {"I32", 32, at::kInt},
    {"U32", 32, at::kUInt32},
    {"F32", 32, at::kFloat},
    {"F64", 64, at::kDouble},
    {"I64", 64, at::kLong},
    {"U64", 64, at::kUInt64},
    {"C64", 64, at::kComplexFloat},
    {"F8_E5M2", 8, at::kFloat8_e5m2},
    {"F8_E4M3", 8, at::kFloat8_e4m3fn},
    {"F8_E4M3FNUZ", 8, at::kFloat8_e4m3fnuz},
    {"F8_E5M2FNUZ", 8, at::kFloat8_e5m2fnuz},
    {"F8_E8M0", 8, at::kFloat8_e8m0fnu},
    {"F4", 4, std::nullopt},
    {"F6_E2M3", 6, std::nullopt},
    {"F6_E3M2", 6, std::nullopt},
};

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string tensor_field(std::string_view name, std::string_view field = {}) {
  std::string out = "tensor " + in_quotes(name);
  if (!field.empty()) out += ": " + std::string(field);
  return out;
}

// Parses the header, rejecting duplicate keys at any depth (nlohmann would keep
// the last one silently, and two definitions of a tensor are ambiguous).
json parse_header(const std::string& path, std::string_view text) {
  const auto duplicate = [&](const DuplicateKey& d) {
    const std::string field =
        d.enclosing.empty()
            ? (d.key == "__metadata__" ? d.key : tensor_field(d.key))
            : (d.enclosing[0] == "__metadata__" ? d.enclosing[0] : tensor_field(d.enclosing[0])) + ": key " + in_quotes(d.key);
    return InputError(path, field, "each key once in the JSON header", "a duplicate key " + in_quotes(d.key));
  };
  return parse_json_strict(text, path, duplicate, "header");
}

std::map<std::string, std::string> parse_metadata(const std::string& path, const json& value) {
  if (!value.is_object()) {
    throw InputError(path, "__metadata__", "an object of string to string", value.type_name());
  }
  std::map<std::string, std::string> out;
  for (const auto& [key, v] : value.items()) {
    if (!v.is_string()) {
      throw InputError(path, "__metadata__: key " + in_quotes(key), "a string value", v.type_name());
    }
    out.emplace(key, v.get<std::string>());
  }
  return out;
}

// One header entry, checked against the data buffer size.
TensorInfo parse_entry(const std::string& path, const std::string& name, const json& value,
                       uint64_t data_size) {
  if (!value.is_object()) {
    throw InputError(path, tensor_field(name), "an object with dtype, shape and data_offsets",
                     value.type_name());
  }
  TensorInfo info;
  info.name = name;

  const auto dtype_it = value.find("dtype");
  if (dtype_it == value.end()) {
    throw InputError(path, tensor_field(name, "dtype"), "a dtype string", "no dtype key");
  }
  if (!dtype_it->is_string()) {
    throw InputError(path, tensor_field(name, "dtype"), "a dtype string", dtype_it->type_name());
  }
  info.dtype_name = dtype_it->get<std::string>();
  const SafetensorsDtype* dtype = find_safetensors_dtype(info.dtype_name);
  if (dtype == nullptr) {
    throw InputError(path, tensor_field(name, "dtype"), "one of " + safetensors_dtype_names(),
                     in_quotes(info.dtype_name));
  }

  const auto shape_it = value.find("shape");
  if (shape_it == value.end()) {
    throw InputError(path, tensor_field(name, "shape"), "an array of dims", "no shape key");
  }
  if (!shape_it->is_array()) {
    throw InputError(path, tensor_field(name, "shape"), "an array of dims", shape_it->type_name());
  }
  uint64_t numel = 1;
  bool overflow = false;
  for (size_t i = 0; i < shape_it->size(); ++i) {
    const json& dim = (*shape_it)[i];
    if (!dim.is_number_unsigned() ||
        dim.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      throw InputError(path, tensor_field(name, "shape[" + std::to_string(i) + "]"),
                       "a non-negative integer below 2^63", dim.dump());
    }
    const uint64_t d = dim.get<uint64_t>();
    info.shape.push_back(static_cast<int64_t>(d));
    overflow = overflow || __builtin_mul_overflow(numel, d, &numel);
  }
  uint64_t bits = 0;
  if (overflow || __builtin_mul_overflow(numel, uint64_t{dtype->bits}, &bits)) {
    throw InputError(path, tensor_field(name, "shape"),
                     "a size in bytes that fits in 64 bits",
                     shape_text(info.shape) + " of " + info.dtype_name);
  }
  if (bits % 8 != 0) {
    throw InputError(path, tensor_field(name, "shape"), "a whole number of bytes",
                     shape_text(info.shape) + " of " + info.dtype_name + " = " +
                         std::to_string(bits) + " bits");
  }
  const uint64_t nbytes = bits / 8;

  const auto offsets_it = value.find("data_offsets");
  if (offsets_it == value.end()) {
    throw InputError(path, tensor_field(name, "data_offsets"), "[begin, end]", "no data_offsets key");
  }
  const json& offsets = *offsets_it;
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned()) {
    throw InputError(path, tensor_field(name, "data_offsets"),
                     "[begin, end] with two non-negative integers", offsets.dump());
  }
  info.begin = offsets[0].get<uint64_t>();
  info.end = offsets[1].get<uint64_t>();
  if (info.begin > info.end) {
    throw InputError(path, tensor_field(name, "data_offsets"), "begin <= end", offsets.dump());
  }
  if (info.end > data_size) {
    throw InputError(path, tensor_field(name, "data_offsets"),
                     "end <= " + std::to_string(data_size) + " (the data buffer's size)",
                     "end " + std::to_string(info.end), kTruncatedHint);
  }
  if (info.end - info.begin != nbytes) {
    throw InputError(path, tensor_field(name, "data_offsets"),
                     std::to_string(nbytes) + " bytes (" + shape_text(info.shape) + " of " +
                         info.dtype_name + ")",
                     std::to_string(info.end - info.begin) + " bytes " + offsets.dump());
  }
  return info;
}

// The data buffer must be covered exactly: tensors in offset order, each starting
// where the previous one ended, the last one ending at the end of the file.
void check_coverage(const std::string& path, const std::vector<TensorInfo>& tensors,
                    uint64_t data_size) {
  std::vector<const TensorInfo*> by_offset;
  for (const auto& t : tensors) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](const TensorInfo* a, const TensorInfo* b) {
    return std::tie(a->begin, a->end, a->name) < std::tie(b->begin, b->end, b->name);
  });
  uint64_t covered = 0;
  const TensorInfo* previous = nullptr;
  for (const TensorInfo* t : by_offset) {
    if (t->begin < covered) {
      throw InputError(path, tensor_field(t->name, "data_offsets"),
                       "no overlap with other tensors",
                       "[" + std::to_string(t->begin) + "," + std::to_string(t->end) +
                           "] overlaps tensor " + in_quotes(previous->name) + " ending at " +
                           std::to_string(covered));
    }
    if (t->begin > covered) {
      throw InputError(path, tensor_field(t->name, "data_offsets"),
                       "begin " + std::to_string(covered) + " (no holes in the data buffer)",
                       "begin " + std::to_string(t->begin) + ": bytes [" + std::to_string(covered) +
                           "," + std::to_string(t->begin) + ") belong to no tensor");
    }
    covered = t->end;
    previous = t;
  }
  if (covered != data_size) {
    throw InputError(path, "data buffer",
                     std::to_string(data_size) + " bytes covered by tensors (no holes)",
                     std::to_string(data_size - covered) + " trailing bytes after offset " +
                         std::to_string(covered));
  }
}

}  // namespace

const SafetensorsDtype* find_safetensors_dtype(std::string_view name) {
  for (const auto& d : kDtypes) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

const SafetensorsDtype* find_safetensors_dtype(at::ScalarType type) {
  for (const auto& d : kDtypes) {
    if (d.scalar_type == type) return &d;
  }
  return nullptr;
}

std::string safetensors_dtype_names() {
  std::string out;
  for (const auto& d : kDtypes) out += (out.empty() ? "" : ", ") + std::string(d.name);
  return out;
}

SafetensorsFile::~SafetensorsFile() {
  if (map_ != nullptr) ::munmap(map_, map_size_);
}

std::shared_ptr<const SafetensorsFile> SafetensorsFile::open(const fs::path& path) {
  const std::string where = path.string();
  std::shared_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;

  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    throw InputError(where, "", "a readable .safetensors file", std::strerror(err),
                     err == ENOENT ? "check the path" : "");
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw InputError(where, "", "a regular .safetensors file", "not a regular file");
  }
  const auto file_size = static_cast<uint64_t>(st.st_size);
  if (file_size < 8) {
    ::close(fd);
    throw InputError(where, "header length", "at least 8 bytes (the u64 header length)",
                     "a file of " + std::to_string(file_size) + " bytes", kTruncatedHint);
  }
  // Private and writable: in-place edits of aliased tensors copy the page instead of
  // faulting, and never reach the file. NORESERVE: no commit charge for the whole file.
  void* map = ::mmap(nullptr, file_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd, 0);
  const int map_errno = errno;
  ::close(fd);
  if (map == MAP_FAILED) {
    throw InputError(where, "", "a file that can be memory-mapped", std::strerror(map_errno));
  }
  file->map_ = static_cast<std::byte*>(map);
  file->map_size_ = file_size;

  uint64_t header_size = 0;
  std::memcpy(&header_size, file->map_, 8);
  if (header_size == 0) {
    throw InputError(where, "header length", "a JSON header of at least 2 bytes", "0 bytes",
                     "not a safetensors file?");
  }
  if (header_size > kMaxHeaderBytes) {
    throw InputError(where, "header length",
                     "at most " + std::to_string(kMaxHeaderBytes) + " bytes",
                     std::to_string(header_size) + " bytes", "not a safetensors file?");
  }
  if (header_size > file_size - 8) {
    throw InputError(where, "header length",
                     "at most " + std::to_string(file_size - 8) + " bytes (the file is " +
                         std::to_string(file_size) + " bytes)",
                     std::to_string(header_size) + " bytes", kTruncatedHint);
  }
  const std::string_view text(reinterpret_cast<const char*>(file->map_) + 8, header_size);
  if (text.front() != '{') {
    throw InputError(where, "header", "a JSON object starting with '{'",
                     "first byte " + std::to_string(static_cast<unsigned char>(text.front())));
  }
  const json header = parse_header(where, text);
  file->data_start_ = 8 + header_size;
  const uint64_t data_size = file_size - file->data_start_;

  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      file->metadata_ = parse_metadata(where, value);
    } else {
      file->tensors_.push_back(parse_entry(where, key, value, data_size));
    }
  }
  check_coverage(where, file->tensors_, data_size);
  std::sort(file->tensors_.begin(), file->tensors_.end(),
            [](const TensorInfo& a, const TensorInfo& b) { return a.name < b.name; });
  return file;
}

const TensorInfo* SafetensorsFile::find(std::string_view name) const {
  const auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                                   [](const TensorInfo& t, std::string_view n) { return t.name < n; });
  return it != tensors_.end() && it->name == name ? &*it : nullptr;
}

const TensorInfo& SafetensorsFile::require(std::string_view name) const {
  const TensorInfo* info = find(name);
  if (info == nullptr) {
    throw InputError(path_.string(), tensor_field(name), "a tensor of that name",
                     "none among " + std::to_string(tensors_.size()) + " tensors");
  }
  return *info;
}

std::span<const std::byte> SafetensorsFile::bytes(std::string_view name) const {
  const TensorInfo& info = require(name);
  return {map_ + data_start_ + info.begin, static_cast<size_t>(info.end - info.begin)};
}

at::Tensor SafetensorsFile::tensor(std::string_view name) const {
  const TensorInfo& info = require(name);
  const SafetensorsDtype* dtype = find_safetensors_dtype(info.dtype_name);
  if (!dtype->scalar_type) {
    throw InputError(path_.string(), tensor_field(name, "dtype"), "a dtype libtorch can hold",
                     in_quotes(info.dtype_name), "read its raw bytes with bytes()");
  }
  const auto options = at::TensorOptions().dtype(*dtype->scalar_type).device(at::kCPU);
  const size_t nbytes = info.end - info.begin;
  if (nbytes == 0) return at::empty(info.shape, options);
  std::byte* data = map_ + data_start_ + info.begin;
  const size_t item_size = dtype->bits / 8;
  if (reinterpret_cast<uintptr_t>(data) % item_size == 0) {
    // The deleter owns a reference to this file, so the mapping outlives the tensor.
    return at::from_blob(data, info.shape, [keep = shared_from_this()](void*) {}, options);
  }
  // Misaligned (files from writers before safetensors 0.3.1): copy.
  at::Tensor out = at::empty(info.shape, options);
  std::memcpy(out.data_ptr(), data, nbytes);
  return out;
}

}  // namespace editgate::harness
