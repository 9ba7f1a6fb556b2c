#include "harness/weight_store.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <set>

#include "harness/atomic_file.h"
#include "harness/file_io.h"
#include "harness/input_error.h"
#include "harness/safetensors_writer.h"
#include "harness/sha256.h"

namespace editgate::harness {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

// Parses the index, rejecting a key given twice in any object (a tensor listed
// twice in weight_map is ambiguous; nlohmann would keep the last silently).
json parse_index(const fs::path& index) {
  const auto duplicate = [&](const DuplicateKey& d) {
    const bool in_map = d.enclosing.size() == 1 && d.enclosing[0] == "weight_map";
    return InputError(index.string(), (in_map ? "weight_map: tensor " : "key ") + in_quotes(d.key),
                      in_map ? "each tensor listed once" : "each key once per object",
                      "a duplicate key " + in_quotes(d.key));
  };
  return parse_json_strict(read_file(index, "a readable safetensors index"), index.string(), duplicate);
}

bool is_plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
}

bool is_shard_name(const std::string& name) {
  return name.starts_with("model-") && name.ends_with(".safetensors") &&
         name.find("-of-") != std::string::npos;
}

std::string shard_name(size_t k, size_t n) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "model-%05zu-of-%05zu.safetensors", k, n);
  return buf;
}

void remove_if_stale(const fs::path& path, const std::set<std::string>& keep) {
  if (keep.count(path.filename().string())) return;
  std::error_code ec;
  fs::remove(path, ec);
  if (ec) throw InputError(path.string(), "", "a removable stale weights file", ec.message());
}

void remove_stale_shards(const fs::path& dir, const std::set<std::string>& keep) {
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file() && is_shard_name(entry.path().filename().string())) {
      remove_if_stale(entry.path(), keep);
    }
  }
}

}  // namespace

WeightStore WeightStore::open_dir(const fs::path& dir) {
  WeightStore store;
  store.dir_ = dir;
  if (!fs::is_directory(dir)) {
    throw InputError(dir.string(), "", "a checkpoint directory",
                     fs::exists(dir) ? "not a directory" : "no such directory", "check the path");
  }
  const fs::path single = dir / kSingleWeightsFile;
  const fs::path index = dir / kWeightsIndexFile;
  if (fs::exists(single)) {
    store.files_.push_back(SafetensorsFile::open(single));
    for (const auto& info : store.files_[0]->tensors()) {
      store.entries_.emplace(info.name, Entry{store.files_[0].get(), &info});
    }
  } else if (fs::exists(index)) {
    store.open_index(index);
  } else if (fs::exists(dir / "pytorch_model.bin") || fs::exists(dir / "pytorch_model.bin.index.json")) {
    throw InputError(dir.string(), "weights", "model.safetensors or model.safetensors.index.json",
                     "only pytorch_model.bin",
                     "convert with safetensors: safetensors.torch.save_file(torch.load(...)), "
                     "or save_pretrained(dir, safe_serialization=True)");
  } else {
    throw InputError(dir.string(), "weights", "model.safetensors or model.safetensors.index.json",
                     "neither file", "is this a Hugging Face checkpoint directory?");
  }
  return store;
}

void WeightStore::open_index(const fs::path& index) {
  const std::string where = index.string();
  const json doc = parse_index(index);
  if (!doc.is_object()) throw InputError(where, "", "a JSON object", doc.type_name());
  if (doc.contains("metadata") && !doc["metadata"].is_object()) {
    throw InputError(where, "metadata", "an object", doc["metadata"].type_name());
  }
  const auto map_it = doc.find("weight_map");
  if (map_it == doc.end()) throw InputError(where, "weight_map", "an object", "no weight_map key");
  if (!map_it->is_object()) throw InputError(where, "weight_map", "an object", map_it->type_name());
  if (map_it->empty()) throw InputError(where, "weight_map", "at least one tensor", "an empty object");

  std::map<std::string, std::string> weight_map;           // tensor -> shard
  std::map<std::string, std::string> first_tensor_of;      // shard -> a tensor it should hold
  for (const auto& [tensor, shard] : map_it->items()) {
    const std::string field = "weight_map: tensor " + in_quotes(tensor);
    if (!shard.is_string()) throw InputError(where, field, "a shard file name", shard.type_name());
    const auto name = shard.get<std::string>();
    if (!is_plain_file_name(name)) {
      throw InputError(where, field, "a shard file name in the same directory", in_quotes(name));
    }
    weight_map.emplace(tensor, name);
    first_tensor_of.emplace(name, tensor);
  }

  std::map<std::string, const SafetensorsFile*> shards;  // file name -> opened shard
  for (const auto& [name, tensor] : first_tensor_of) {
    const fs::path shard_path = dir_ / name;
    if (!fs::is_regular_file(shard_path)) {
      throw InputError(where, "weight_map: tensor " + in_quotes(tensor),
                       "shard " + in_quotes(name) + " in " + dir_.string(), "no such file",
                       "incomplete download?");
    }
    files_.push_back(SafetensorsFile::open(shard_path));
    shards.emplace(name, files_.back().get());
  }
  for (const auto& [tensor, name] : weight_map) {
    const SafetensorsFile* shard = shards.at(name);
    const TensorInfo* info = shard->find(tensor);
    if (info == nullptr) {
      throw InputError(where, "weight_map: tensor " + in_quotes(tensor),
                       "the tensor in shard " + in_quotes(name), in_quotes(name) + " has no such tensor",
                       "stale index?");
    }
    entries_.emplace(tensor, Entry{shard, info});
  }
  // Every tensor of every shard must be the one the index points at.
  for (const auto& [name, shard] : shards) {
    for (const auto& info : shard->tensors()) {
      const auto it = weight_map.find(info.name);
      if (it == weight_map.end()) {
        throw InputError(where, "weight_map", "an entry for tensor " + in_quotes(info.name),
                         "none, but shard " + in_quotes(name) + " holds it", "regenerate the index");
      }
      if (it->second != name) {
        throw InputError(where, "tensor " + in_quotes(info.name), "the tensor in exactly one shard",
                         "it is in both " + in_quotes(it->second) + " and " + in_quotes(name));
      }
    }
  }
}

std::vector<std::string> WeightStore::names() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const auto& [name, entry] : entries_) out.push_back(name);
  return out;
}

bool WeightStore::contains(std::string_view name) const { return entries_.find(name) != entries_.end(); }

const WeightStore::Entry& WeightStore::require(std::string_view name) const {
  const auto it = entries_.find(name);
  if (it == entries_.end()) {
    throw InputError(dir_.string(), "tensor " + in_quotes(name), "a tensor of that name",
                     "none among " + std::to_string(entries_.size()) + " tensors");
  }
  return it->second;
}

const TensorInfo& WeightStore::info(std::string_view name) const { return *require(name).info; }

at::Tensor WeightStore::get(std::string_view name) const { return require(name).file->tensor(name); }

std::span<const std::byte> WeightStore::bytes(std::string_view name) const {
  return require(name).file->bytes(name);
}

std::string WeightStore::sha256() const {
  Sha256 hasher;
  static constexpr char kNul = '\0';
  for (const auto& [name, entry] : entries_) {
    hasher.update(name);
    hasher.update(&kNul, 1);
    hasher.update(entry.info->dtype_name);
    hasher.update(&kNul, 1);
    std::string shape = "[";
    for (size_t i = 0; i < entry.info->shape.size(); ++i) {
      shape += (i ? "," : "") + std::to_string(entry.info->shape[i]);
    }
    hasher.update(shape + "]");
    hasher.update(&kNul, 1);
    const auto raw = entry.file->bytes(name);
    hasher.update(raw.data(), raw.size());
  }
  return hasher.hex_digest();
}

void write_weights(const fs::path& dir,
                   const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                   uint64_t max_shard_bytes) {
  std::set<std::string_view> names;
  for (const auto& [name, t] : tensors) {
    if (!names.insert(name).second) {
      throw InputError(dir.string(), "tensor " + in_quotes(name), "unique tensor names",
                       "a second tensor named " + in_quotes(name));
    }
  }
  // HF's split: fill shards in the given order; a tensor that would overflow the
  // current shard starts the next one.
  std::vector<std::vector<std::pair<std::string, at::Tensor>>> shards(1);
  uint64_t shard_bytes = 0, total_bytes = 0;
  for (const auto& item : tensors) {
    const at::Tensor& t = item.second;
    const uint64_t nbytes = t.defined() ? static_cast<uint64_t>(t.numel()) * t.element_size() : 0;
    if (max_shard_bytes > 0 && !shards.back().empty() && shard_bytes + nbytes > max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back(item);
    shard_bytes += nbytes;
    total_bytes += nbytes;
  }
  const std::map<std::string, std::string> metadata{{"format", "pt"}};
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw InputError(dir.string(), "", "a writable directory", ec.message());

  if (shards.size() == 1) {
    write_safetensors(dir / kSingleWeightsFile, shards[0], metadata);
    remove_if_stale(dir / kWeightsIndexFile, {});
    remove_stale_shards(dir, {});
    return;
  }
  json weight_map = json::object();
  std::set<std::string> written;
  for (size_t k = 0; k < shards.size(); ++k) {
    const std::string name = shard_name(k + 1, shards.size());
    write_safetensors(dir / name, shards[k], metadata);
    for (const auto& item : shards[k]) weight_map[item.first] = name;
    written.insert(name);
  }
  // Before the index appears: open_dir prefers model.safetensors, so a stale one
  // must never outlive the new index.
  remove_if_stale(dir / kSingleWeightsFile, {});
  const json index = {{"metadata", {{"total_size", total_bytes}}}, {"weight_map", weight_map}};
  write_file_atomic(dir / kWeightsIndexFile, index.dump(2) + "\n");
  remove_stale_shards(dir, written);
}

}  // namespace editgate::harness
