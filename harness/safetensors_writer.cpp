#include "harness/safetensors_writer.h"

#include <ATen/ATen.h>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <set>
#include <vector>

#include "harness/atomic_file.h"
#include "harness/input_error.h"
#include "harness/safetensors_reader.h"

namespace editgate::harness {
namespace fs = std::filesystem;

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host needs byte swapping here");

namespace {

struct Entry {
  const std::string* name;
  const SafetensorsDtype* dtype;
  std::vector<int64_t> shape;
  uint64_t nbytes = 0;
  uint64_t begin = 0;                         // offset in the data buffer
  const at::Tensor* tensor = nullptr;         // held whole, or
  const StreamedTensor* streamed = nullptr;   // produced chunk by chunk while writing
};

std::string tensor_field(const std::string& name) { return "tensor '" + name + "'"; }

const SafetensorsDtype* storable_dtype(const fs::path& path, const std::string& name, at::ScalarType type) {
  const SafetensorsDtype* dtype = find_safetensors_dtype(type);
  if (dtype == nullptr) {
    throw InputError(path.string(), tensor_field(name),
                     "a dtype safetensors can store (" + safetensors_dtype_names() + ")", c10::toString(type));
  }
  return dtype;
}

uint64_t byte_size(const std::vector<int64_t>& shape, const SafetensorsDtype* dtype) {
  uint64_t numel = 1;
  for (const int64_t s : shape) numel *= static_cast<uint64_t>(s);
  return numel * (dtype->bits / 8);
}

Entry check_entry(const fs::path& path, const std::string& name, const at::Tensor& t) {
  if (!t.defined()) {
    throw InputError(path.string(), tensor_field(name), "a defined tensor", "an undefined tensor");
  }
  if (t.layout() != at::kStrided) {
    throw InputError(path.string(), tensor_field(name), "a dense (strided) tensor",
                     "layout " + c10::str(t.layout()), "call .to_dense() first");
  }
  const SafetensorsDtype* dtype = storable_dtype(path, name, t.scalar_type());
  Entry e{&name, dtype, t.sizes().vec()};
  e.nbytes = byte_size(e.shape, dtype);
  e.tensor = &t;
  return e;
}

Entry check_entry(const fs::path& path, const StreamedTensor& t) {
  TORCH_CHECK(!t.shape.empty() && t.produce, "streamed tensor '", t.name, "' needs a shape [rows, ...] and a producer");
  Entry e{&t.name, storable_dtype(path, t.name, t.dtype), t.shape};
  e.nbytes = byte_size(e.shape, e.dtype);
  e.streamed = &t;
  return e;
}

// Contiguous CPU bytes with conjugate/negative views materialised (contiguous()
// alone keeps the conj bit and would write the unconjugated values).
at::Tensor host_bytes(const at::Tensor& t) {
  return t.resolve_conj().resolve_neg().to(at::kCPU).contiguous();
}

class FileWriter {
 public:
  FileWriter(const fs::path& tmp, const fs::path& target) : target_(target) {
    fd_ = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      throw InputError(target.string(), "", "a writable file path", std::strerror(errno));
    }
  }
  ~FileWriter() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  void write(const void* data, size_t size) {
    const auto* p = static_cast<const char*>(data);
    while (size > 0) {
      const ssize_t n = ::write(fd_, p, size);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw InputError(target_.string(), "", "a successful write", std::strerror(errno),
                         "disk full?");
      }
      p += n;
      size -= static_cast<size_t>(n);
    }
  }

  void close() {
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) {
      throw InputError(target_.string(), "", "a successful close", std::strerror(errno));
    }
  }

 private:
  fs::path target_;
  int fd_ = -1;
};

// Writes a streamed tensor's chunks as they come; a producer that writes more or
// fewer bytes than the header promised would leave a corrupt file, so that
// throws (and the atomic write leaves the target untouched).
void write_streamed(FileWriter& out, const Entry& e) {
  const StreamedTensor& t = *e.streamed;
  const std::vector<int64_t> row_shape(t.shape.begin() + 1, t.shape.end());
  uint64_t written = 0;
  t.produce([&](const at::Tensor& chunk) {
    TORCH_CHECK(chunk.scalar_type() == t.dtype, "streamed tensor '", t.name, "': chunk of dtype ",
                chunk.scalar_type(), ", header says ", t.dtype);
    TORCH_CHECK(chunk.dim() == static_cast<int64_t>(t.shape.size()) && chunk.sizes().slice(1).vec() == row_shape,
                "streamed tensor '", t.name, "': chunk of shape ", chunk.sizes(), " for a tensor of shape ",
                c10::IntArrayRef(t.shape));
    const at::Tensor host = host_bytes(chunk);
    const uint64_t n = static_cast<uint64_t>(host.numel()) * (e.dtype->bits / 8);
    TORCH_CHECK(written + n <= e.nbytes, "streamed tensor '", t.name, "': the chunks exceed its shape ",
                c10::IntArrayRef(t.shape));
    out.write(host.const_data_ptr(), n);
    written += n;
  });
  TORCH_CHECK(written == e.nbytes, "streamed tensor '", t.name, "': chunks cover ", written, " of ", e.nbytes,
              " bytes");
}

}  // namespace

void write_safetensors(const fs::path& path,
                       const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  write_safetensors(path, tensors, {}, metadata);
}

void write_safetensors(const fs::path& path,
                       const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::vector<StreamedTensor>& streamed,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<Entry> entries;
  std::set<std::string_view> names;
  const auto check_name = [&](const std::string& name) {
    if (name == "__metadata__") {
      throw InputError(path.string(), tensor_field(name), "a tensor name other than __metadata__",
                       "'__metadata__'", "the key is reserved for the metadata object");
    }
    if (!names.insert(name).second) {
      throw InputError(path.string(), tensor_field(name), "unique tensor names",
                       "a second tensor named '" + name + "'");
    }
  };
  for (const auto& [name, t] : tensors) {
    check_name(name);
    entries.push_back(check_entry(path, name, t));
  }
  for (const auto& t : streamed) {
    check_name(t.name);
    entries.push_back(check_entry(path, t));
  }
  // The reference writer's order: wider elements first, so every tensor starts at a
  // multiple of its element size once the header is padded to 8.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (a.dtype->bits != b.dtype->bits) return a.dtype->bits > b.dtype->bits;
    return *a.name < *b.name;
  });

  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (auto& e : entries) {
    e.begin = offset;
    offset += e.nbytes;
    header[*e.name] = {{"dtype", std::string(e.dtype->name)},
                       {"shape", e.shape},
                       {"data_offsets", {e.begin, offset}}};
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::type_error& e) {
    throw InputError(path.string(), "header", "UTF-8 tensor names and metadata", e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  const uint64_t header_size = text.size();

  write_file_atomic_with(path, [&](const fs::path& tmp) {
    FileWriter out(tmp, path);
    out.write(&header_size, sizeof(header_size));
    out.write(text.data(), text.size());
    for (const auto& e : entries) {
      if (e.streamed != nullptr) {
        write_streamed(out, e);
        continue;
      }
      if (e.nbytes == 0) continue;
      const at::Tensor host = host_bytes(*e.tensor);  // one host copy at a time
      out.write(host.const_data_ptr(), e.nbytes);
    }
    out.close();
  });
}

}  // namespace editgate::harness
