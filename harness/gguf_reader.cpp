#include "harness/gguf_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>

#include "harness/gguf_dequant.h"
#include "harness/input_error.h"

namespace editgate::harness {
namespace fs = std::filesystem;

static_assert(std::endian::native == std::endian::little,
              "GGUF here is little-endian; a big-endian host needs byte swapping");

namespace {

constexpr const char* kTruncatedHint = "truncated download?";
constexpr uint32_t kMaxDims = 4;             // GGML_MAX_DIMS
constexpr uint64_t kMaxStringBytes = 1u << 30;  // no key, name or token is near this; a larger length is corruption
constexpr int kMaxArrayDepth = 8;            // nested arrays: guard the recursion

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

// A bounds-checked cursor over the mapped header. Every read names the field it
// is reading, so a short file says which field ran past the end.
class Cursor {
 public:
  Cursor(const std::byte* data, uint64_t size, std::string path) : data_(data), size_(size), path_(std::move(path)) {}

  uint64_t pos() const { return pos_; }
  const std::string& path() const { return path_; }

  [[noreturn]] void fail(const std::string& field, const std::string& expected, const std::string& got,
                         const std::string& hint = {}) const {
    throw InputError(path_, field, expected, got, hint);
  }

  void need(uint64_t n, const std::string& field) const {
    if (n > size_ - pos_) {
      fail(field, std::to_string(n) + " bytes at offset " + std::to_string(pos_),
           "the file ends after " + std::to_string(size_ - pos_), kTruncatedHint);
    }
  }

  template <typename T>
  T read(const std::string& field) {
    need(sizeof(T), field);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::string string(const std::string& field) {
    const auto n = read<uint64_t>(field + " (string length)");
    if (n > kMaxStringBytes) {
      fail(field, "a string of at most " + std::to_string(kMaxStringBytes) + " bytes",
           "length " + std::to_string(n), "corrupt file?");
    }
    need(n, field);
    std::string s(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return s;
  }

 private:
  const std::byte* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
  std::string path_;
};

bool known_type(uint32_t t) { return t <= static_cast<uint32_t>(GgufValueType::kFloat64); }

// Bytes one item of a fixed-size type occupies (0 for string and array).
uint64_t fixed_size(GgufValueType t) {
  switch (t) {
    case GgufValueType::kUint8: case GgufValueType::kInt8: case GgufValueType::kBool: return 1;
    case GgufValueType::kUint16: case GgufValueType::kInt16: return 2;
    case GgufValueType::kUint32: case GgufValueType::kInt32: case GgufValueType::kFloat32: return 4;
    case GgufValueType::kUint64: case GgufValueType::kInt64: case GgufValueType::kFloat64: return 8;
    default: return 0;
  }
}

GgufValueType read_type(Cursor& c, const std::string& field) {
  const auto t = c.read<uint32_t>(field);
  if (!known_type(t)) c.fail(field, "a GGUF value type 0..12", std::to_string(t));
  return static_cast<GgufValueType>(t);
}

GgufValue read_value(Cursor& c, GgufValueType type, const std::string& field, int depth) {
  GgufValue v;
  v.type = type;
  auto set_unsigned = [&v](uint64_t x) {
    v.u = x;
    v.i = x <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? static_cast<int64_t>(x) : -1;
  };
  auto set_signed = [&v](int64_t x) {
    v.i = x;
    v.u = x >= 0 ? static_cast<uint64_t>(x) : 0;
  };
  switch (type) {
    case GgufValueType::kUint8: set_unsigned(c.read<uint8_t>(field)); break;
    case GgufValueType::kInt8: set_signed(c.read<int8_t>(field)); break;
    case GgufValueType::kUint16: set_unsigned(c.read<uint16_t>(field)); break;
    case GgufValueType::kInt16: set_signed(c.read<int16_t>(field)); break;
    case GgufValueType::kUint32: set_unsigned(c.read<uint32_t>(field)); break;
    case GgufValueType::kInt32: set_signed(c.read<int32_t>(field)); break;
    case GgufValueType::kUint64: set_unsigned(c.read<uint64_t>(field)); break;
    case GgufValueType::kInt64: set_signed(c.read<int64_t>(field)); break;
    case GgufValueType::kFloat32: v.f = c.read<float>(field); break;
    case GgufValueType::kFloat64: v.f = c.read<double>(field); break;
    case GgufValueType::kBool: {
      const auto b = c.read<uint8_t>(field);
      if (b > 1) c.fail(field, "a bool (0 or 1)", std::to_string(b));
      set_signed(b);
      break;
    }
    case GgufValueType::kString: v.s = c.string(field); break;
    case GgufValueType::kArray: {
      if (depth >= kMaxArrayDepth) {
        c.fail(field, "arrays nested at most " + std::to_string(kMaxArrayDepth) + " deep", "deeper nesting");
      }
      v.elem = read_type(c, field + " (array item type)");
      const auto n = c.read<uint64_t>(field + " (array length)");
      // Each item takes at least one byte (strings and arrays at least 8), so a
      // length the rest of the file cannot hold is corrupt: refuse before reserving.
      const uint64_t min_item = fixed_size(v.elem) ? fixed_size(v.elem) : 8;
      if (n > std::numeric_limits<uint64_t>::max() / min_item) {
        c.fail(field, "an array length that fits in the file", std::to_string(n), kTruncatedHint);
      }
      c.need(n * min_item, field + " (" + std::to_string(n) + " array items)");
      v.items.reserve(n);
      for (uint64_t k = 0; k < n; ++k) {
        v.items.push_back(read_value(c, v.elem, field + "[" + std::to_string(k) + "]", depth + 1));
      }
      break;
    }
  }
  return v;
}

}  // namespace

std::string_view to_string(GgufValueType type) {
  static constexpr std::string_view kNames[] = {"UINT8", "INT8",  "UINT16", "INT16",  "UINT32", "INT32", "FLOAT32",
                                                "BOOL",  "STRING", "ARRAY", "UINT64", "INT64",  "FLOAT64"};
  const auto i = static_cast<uint32_t>(type);
  return i < std::size(kNames) ? kNames[i] : "UNKNOWN";
}

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufValueType::kUint8: case GgufValueType::kInt8: case GgufValueType::kUint16:
    case GgufValueType::kInt16: case GgufValueType::kUint32: case GgufValueType::kInt32:
    case GgufValueType::kUint64: case GgufValueType::kInt64: return true;
    default: return false;
  }
}

std::vector<int64_t> GgufTensorInfo::torch_shape() const {
  return {ne.rbegin(), ne.rend()};  // dims were checked to fit in int64 at open
}

uint64_t GgufTensorInfo::numel() const {
  uint64_t n = 1;
  for (const auto d : ne) n *= d;  // checked not to overflow at open
  return n;
}

GgufFile::~GgufFile() {
  if (map_ != nullptr) ::munmap(map_, map_size_);
}

std::shared_ptr<const GgufFile> GgufFile::open(const fs::path& path) {
  const std::string where = path.string();
  std::shared_ptr<GgufFile> file(new GgufFile());
  file->path_ = path;

  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    throw InputError(where, "", "a readable .gguf file", std::strerror(err), err == ENOENT ? "check the path" : "");
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw InputError(where, "", "a regular .gguf file", "not a regular file");
  }
  const auto file_size = static_cast<uint64_t>(st.st_size);
  if (file_size < 24) {
    ::close(fd);
    throw InputError(where, "header", "at least 24 bytes (magic, version, counts)",
                     "a file of " + std::to_string(file_size) + " bytes", kTruncatedHint);
  }
  void* map = ::mmap(nullptr, file_size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int map_errno = errno;
  ::close(fd);
  if (map == MAP_FAILED) throw InputError(where, "", "a file that can be memory-mapped", std::strerror(map_errno));
  file->map_ = static_cast<std::byte*>(map);
  file->map_size_ = file_size;

  Cursor c(file->map_, file_size, where);
  char magic[4];
  std::memcpy(magic, file->map_, 4);
  c.read<uint32_t>("magic");
  if (std::memcmp(magic, "GGUF", 4) != 0) {
    c.fail("magic", "\"GGUF\"", "bytes " + std::to_string(uint8_t(magic[0])) + " " + std::to_string(uint8_t(magic[1])) +
                                     " " + std::to_string(uint8_t(magic[2])) + " " + std::to_string(uint8_t(magic[3])),
           "not a GGUF file; GGML/GGJT files need llama.cpp's converter");
  }
  file->version_ = c.read<uint32_t>("version");
  if (file->version_ != 2 && file->version_ != 3) {
    c.fail("version", "2 or 3", std::to_string(file->version_),
           file->version_ == 1 ? "GGUF v1 used 32-bit counts; reconvert with a current llama.cpp" : "");
  }
  const auto n_tensors = c.read<uint64_t>("tensor_count");
  const auto n_kv = c.read<uint64_t>("metadata_kv_count");
  // Each KV pair takes at least 8+4+1 bytes and each tensor info 8+4+4+8 bytes.
  if (n_kv > file_size / 13) c.fail("metadata_kv_count", "a count the file can hold", std::to_string(n_kv), kTruncatedHint);
  if (n_tensors > file_size / 24) c.fail("tensor_count", "a count the file can hold", std::to_string(n_tensors), kTruncatedHint);

  for (uint64_t k = 0; k < n_kv; ++k) {
    const std::string key = c.string("metadata[" + std::to_string(k) + "].key");
    const std::string field = "metadata " + in_quotes(key);
    if (file->metadata_index_.count(key)) c.fail(field, "each key once", "a duplicate key");
    const GgufValueType type = read_type(c, field + " (type)");
    file->metadata_index_.emplace(key, file->metadata_.size());
    file->metadata_.emplace_back(key, read_value(c, type, field, 0));
  }

  if (const GgufValue* a = file->find("general.alignment")) {
    if (a->type != GgufValueType::kUint32 || a->u == 0 || (a->u & (a->u - 1)) != 0) {
      c.fail("metadata 'general.alignment'", "a UINT32 power of two",
             std::string(to_string(a->type)) + " " + std::to_string(a->is_integer() ? a->i : 0));
    }
    file->alignment_ = a->u;
  }

  for (uint64_t k = 0; k < n_tensors; ++k) {
    GgufTensorInfo t;
    t.name = c.string("tensor_infos[" + std::to_string(k) + "].name");
    const std::string field = "tensor " + in_quotes(t.name);
    if (file->tensor_index_.count(t.name)) c.fail(field, "each tensor name once", "a duplicate name");
    const auto n_dims = c.read<uint32_t>(field + ": n_dims");
    if (n_dims == 0 || n_dims > kMaxDims) {
      c.fail(field + ": n_dims", "1.." + std::to_string(kMaxDims), std::to_string(n_dims));
    }
    uint64_t numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const auto dim = c.read<uint64_t>(field + ": ne[" + std::to_string(d) + "]");
      if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        c.fail(field + ": ne[" + std::to_string(d) + "]", "a dimension below 2^63", std::to_string(dim));
      }
      t.ne.push_back(dim);
      if (__builtin_mul_overflow(numel, dim, &numel)) {
        c.fail(field + ": ne", "an element count that fits in 64 bits", shape_text(t.ne));
      }
    }
    t.type = c.read<uint32_t>(field + ": type");
    const GgmlType* type = find_ggml_type(t.type);
    if (type == nullptr) c.fail(field + ": type", "a ggml type id", std::to_string(t.type), "newer llama.cpp format?");
    if (t.ne[0] % type->block_size != 0) {
      c.fail(field + ": ne[0]", "a multiple of " + std::string(type->name) + "'s block size " +
                                   std::to_string(type->block_size), std::to_string(t.ne[0]));
    }
    if (__builtin_mul_overflow(numel / type->block_size, uint64_t{type->type_size}, &t.nbytes)) {
      c.fail(field + ": ne", "a size in bytes that fits in 64 bits", shape_text(t.ne));
    }
    t.offset = c.read<uint64_t>(field + ": offset");
    if (t.offset % file->alignment_ != 0) {
      c.fail(field + ": offset", "a multiple of the alignment " + std::to_string(file->alignment_),
             std::to_string(t.offset));
    }
    file->tensor_index_.emplace(t.name, file->tensors_.size());
    file->tensors_.push_back(std::move(t));
  }

  // The data section starts at the next multiple of the alignment (GGUF pads the
  // header); a file with no tensors may end before it.
  const uint64_t align = file->alignment_;
  const uint64_t header_end = c.pos();
  file->data_start_ = header_end + (align - header_end % align) % align;
  const uint64_t data_size = file->data_start_ <= file_size ? file_size - file->data_start_ : 0;
  if (!file->tensors_.empty() && file->data_start_ > file_size) {
    c.fail("data section", "to start at offset " + std::to_string(file->data_start_),
           "a file of " + std::to_string(file_size) + " bytes", kTruncatedHint);
  }
  std::vector<const GgufTensorInfo*> by_offset;
  for (const auto& t : file->tensors_) {
    if (t.offset > data_size || t.nbytes > data_size - t.offset) {
      c.fail("tensor " + in_quotes(t.name) + ": offset",
             "offset + " + std::to_string(t.nbytes) + " bytes <= " + std::to_string(data_size) +
                 " (the data section's size)",
             "offset " + std::to_string(t.offset), kTruncatedHint);
    }
    by_offset.push_back(&t);
  }
  // Padding between tensors is allowed (GGUF aligns each one); overlap is not.
  std::sort(by_offset.begin(), by_offset.end(), [](auto* a, auto* b) { return a->offset < b->offset; });
  for (size_t k = 1; k < by_offset.size(); ++k) {
    const auto* prev = by_offset[k - 1];
    if (by_offset[k]->offset < prev->offset + prev->nbytes) {
      c.fail("tensor " + in_quotes(by_offset[k]->name) + ": offset", "no overlap with other tensors",
             "offset " + std::to_string(by_offset[k]->offset) + " inside tensor " + in_quotes(prev->name) + " [" +
                 std::to_string(prev->offset) + ", " + std::to_string(prev->offset + prev->nbytes) + ")");
    }
  }
  return file;
}

const GgufValue* GgufFile::find(std::string_view key) const {
  const auto it = metadata_index_.find(key);
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

uint64_t GgufFile::get_uint(std::string_view key, std::optional<uint64_t> fallback) const {
  const GgufValue* v = find(key);
  if (v == nullptr) {
    if (fallback) return *fallback;
    throw InputError(path_.string(), "metadata " + in_quotes(key), "an unsigned integer", "nothing (key missing)");
  }
  if (!v->is_integer() || v->i < 0) {
    throw InputError(path_.string(), "metadata " + in_quotes(key), "a non-negative integer",
                     std::string(to_string(v->type)) + (v->is_integer() ? " " + std::to_string(v->i) : ""));
  }
  return v->u;
}

double GgufFile::get_float(std::string_view key, std::optional<double> fallback) const {
  const GgufValue* v = find(key);
  if (v == nullptr) {
    if (fallback) return *fallback;
    throw InputError(path_.string(), "metadata " + in_quotes(key), "a number", "nothing (key missing)");
  }
  if (v->is_float()) return v->f;
  if (v->is_integer()) return static_cast<double>(v->i);
  throw InputError(path_.string(), "metadata " + in_quotes(key), "a number", std::string(to_string(v->type)));
}

bool GgufFile::get_bool(std::string_view key, std::optional<bool> fallback) const {
  const GgufValue* v = find(key);
  if (v == nullptr) {
    if (fallback) return *fallback;
    throw InputError(path_.string(), "metadata " + in_quotes(key), "a BOOL", "nothing (key missing)");
  }
  if (v->type != GgufValueType::kBool) {
    throw InputError(path_.string(), "metadata " + in_quotes(key), "a BOOL", std::string(to_string(v->type)));
  }
  return v->i != 0;
}

std::string GgufFile::get_string(std::string_view key, std::optional<std::string> fallback) const {
  const GgufValue* v = find(key);
  if (v == nullptr) {
    if (fallback) return *fallback;
    throw InputError(path_.string(), "metadata " + in_quotes(key), "a STRING", "nothing (key missing)");
  }
  if (v->type != GgufValueType::kString) {
    throw InputError(path_.string(), "metadata " + in_quotes(key), "a STRING", std::string(to_string(v->type)));
  }
  return v->s;
}

const std::vector<GgufValue>& GgufFile::get_array(std::string_view key, GgufValueType elem) const {
  const GgufValue* v = find(key);
  const std::string expected = "an ARRAY of " + std::string(to_string(elem));
  if (v == nullptr) throw InputError(path_.string(), "metadata " + in_quotes(key), expected, "nothing (key missing)");
  if (v->type != GgufValueType::kArray || v->elem != elem) {
    throw InputError(path_.string(), "metadata " + in_quotes(key), expected,
                     std::string(to_string(v->type)) +
                         (v->type == GgufValueType::kArray ? " of " + std::string(to_string(v->elem)) : ""));
  }
  return v->items;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

std::span<const std::byte> GgufFile::bytes(const GgufTensorInfo& info) const {
  return {map_ + data_start_ + info.offset, static_cast<size_t>(info.nbytes)};
}

}  // namespace editgate::harness
