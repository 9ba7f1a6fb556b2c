#include "harness/codebook_adapter.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "harness/input_error.h"
#include "harness/safetensors_reader.h"
#include "harness/safetensors_writer.h"
#include "harness/transformer.h"

namespace editgate::harness {
namespace {

// A tensor's shape for a message, or "nothing" for a missing one.
std::string shape_or_nothing(const at::Tensor& t) { return t.defined() ? shape_text(t.sizes()) : "nothing"; }

std::string meta(const SafetensorsFile& f, const std::string& key) {
  const auto it = f.metadata().find(key);
  if (it == f.metadata().end()) {
    throw InputError(f.path().string(), "__metadata__." + key, "a value", "nothing",
                     "write codebooks with `editgate edit --method grace`");
  }
  return it->second;
}

at::Tensor tensor_f32(const SafetensorsFile& f, const std::string& name) {
  const auto* info = f.find(name);
  if (info == nullptr) throw InputError(f.path().string(), "tensor '" + name + "'", "a F32 tensor", "nothing");
  if (info->dtype_name != "F32") throw InputError(f.path().string(), "tensor '" + name + "'", "dtype F32", info->dtype_name);
  return f.tensor(name).clone();  // off the mapping
}

nlohmann::json parse_array(const SafetensorsFile& f, const std::string& key, size_t n) {
  const auto j = nlohmann::json::parse(meta(f, key), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_array() || j.size() != n) {
    throw InputError(f.path().string(), "__metadata__." + key, fmt::format("a JSON array of {} entries", n),
                     meta(f, key).substr(0, 80));
  }
  return j;
}

}  // namespace

Codebook Codebook::empty(const ModelConfig& config, int64_t layer) {
  Codebook c;
  c.layer = layer;
  c.keys = at::zeros({0, config.d_mlp}, at::kFloat);
  c.values = at::zeros({0, config.d_model}, at::kFloat);
  c.radii = at::zeros({0}, at::kFloat);
  return c;
}

void Codebook::check(const ModelConfig& config, const std::string& source) const {
  if (layer < 0 || layer >= config.n_layers) {
    throw InputError(source, "layer", fmt::format("a layer in [0, {})", config.n_layers), std::to_string(layer));
  }
  const int64_t n = size();
  const auto expect = [&](const at::Tensor& t, const char* name, std::vector<int64_t> shape) {
    if (!t.defined() || t.sizes().vec() != shape || t.scalar_type() != at::kFloat) {
      std::string want;
      for (auto d : shape) want += (want.empty() ? "" : ", ") + std::to_string(d);
      throw InputError(source, name, "float32 [" + want + "] for this model", shape_or_nothing(t));
    }
  };
  expect(keys, "keys", {n, config.d_mlp});
  expect(values, "values", {n, config.d_model});
  expect(radii, "radii", {n});
  if (static_cast<int64_t>(labels.size()) != n || static_cast<int64_t>(case_ids.size()) != n) {
    throw InputError(source, "labels", fmt::format("{} labels and case-id lists (one per key)", n),
                     fmt::format("{} and {}", labels.size(), case_ids.size()));
  }
  if (n > 0 && !(radii >= 0).all().item<bool>()) throw InputError(source, "radii", "radii >= 0", "a negative radius");
}

at::Tensor codebook_hits(const Codebook& cb, const at::Tensor& queries) {
  const int64_t m = queries.size(0);
  auto none = at::full({m}, -1, queries.options().dtype(at::kLong));
  if (cb.size() == 0 || m == 0) return none;
  const auto q = queries.to(at::kFloat);
  // ‖q - k‖² through one matmul: m × n distances without an [m, n, d] temporary.
  const auto d2 = (q.pow(2).sum(1, true) - 2 * at::matmul(q, cb.keys.t()) + cb.keys.pow(2).sum(1).unsqueeze(0))
                      .clamp_min(0);  // [m, n]
  const auto idx = std::get<1>(d2.min(1));  // [m] nearest key
  // The expansion loses precision in float32 (an exact match can come out at
  // 1e-2); the hit test uses the nearest key's distance computed directly.
  const auto dist = (q - cb.keys.index_select(0, idx)).norm(2, {1});  // [m]
  const auto hit = dist <= cb.radii.index_select(0, idx);
  return at::where(hit, idx, none);
}

Codebook read_codebook(const std::filesystem::path& path, const ModelConfig& config) {
  const auto f = SafetensorsFile::open(path);
  if (meta(*f, "format") != kCodebookFormat) {
    throw InputError(path.string(), "__metadata__.format", kCodebookFormat, meta(*f, "format"));
  }
  if (meta(*f, "version") != "1") throw InputError(path.string(), "__metadata__.version", "1", meta(*f, "version"));
  Codebook c;
  try {
    c.layer = std::stoll(meta(*f, "layer"));
  } catch (const std::logic_error&) {
    throw InputError(path.string(), "__metadata__.layer", "a layer number", meta(*f, "layer"));
  }
  c.keys = tensor_f32(*f, "keys");
  c.values = tensor_f32(*f, "values");
  c.radii = tensor_f32(*f, "radii");
  const auto n = static_cast<size_t>(c.keys.dim() == 2 ? c.keys.size(0) : 0);
  const auto labels = parse_array(*f, "labels", n);
  const auto ids = parse_array(*f, "case_ids", n);
  for (size_t i = 0; i < n; ++i) {
    if (!labels[i].is_string()) throw InputError(path.string(), fmt::format("__metadata__.labels[{}]", i), "a string", labels[i].dump());
    c.labels.push_back(labels[i].get<std::string>());
    std::vector<std::string> cases;
    if (!ids[i].is_array()) throw InputError(path.string(), fmt::format("__metadata__.case_ids[{}]", i), "an array", ids[i].dump());
    for (const auto& id : ids[i]) {
      if (!id.is_string()) throw InputError(path.string(), fmt::format("__metadata__.case_ids[{}]", i), "strings", id.dump());
      cases.push_back(id.get<std::string>());
    }
    c.case_ids.push_back(std::move(cases));
  }
  c.check(config, path.string());
  return c;
}

void write_codebook(const std::filesystem::path& path, const Codebook& c) {
  nlohmann::json labels = c.labels, ids = c.case_ids;
  write_safetensors(path,
                    {{"keys", c.keys.to(at::kCPU, at::kFloat).contiguous()},
                     {"values", c.values.to(at::kCPU, at::kFloat).contiguous()},
                     {"radii", c.radii.to(at::kCPU, at::kFloat).contiguous()}},
                    {{"format", kCodebookFormat},
                     {"version", "1"},
                     {"layer", std::to_string(c.layer)},
                     {"labels", labels.dump()},
                     {"case_ids", ids.dump()}});
}

CodebookAdapter::CodebookAdapter(Transformer& model, Codebook codebook) : codebook_(std::move(codebook)) {
  codebook_.check(model.config(), "codebook");
  // Own copies: an editor that goes on changing its codebook in place must not
  // change the installed one behind the model's back.
  codebook_.keys = codebook_.keys.clone();
  codebook_.values = codebook_.values.clone();
  codebook_.radii = codebook_.radii.clone();
  if (codebook_.size() == 0) return;  // nothing to look up: the model stays exactly the base
  auto dev = std::make_shared<Codebook>(codebook_);
  dev->keys = codebook_.keys.to(model.device());
  dev->values = codebook_.values.to(model.device());
  dev->radii = codebook_.radii.to(model.device());
  // The key hook leaves the entry hit at each position ([batch, pos], -1: none)
  // for the replacement hook of the same layer, which runs next in the same pass.
  auto pending = std::make_shared<at::Tensor>();
  hooks_.push_back(model.hooks().add({codebook_.layer, HookSite::kMlpPost},
                                     [dev, pending](at::Tensor& act, const HookContext&) {
                                       const auto flat = act.detach().flatten(0, 1);  // [batch*pos, d_mlp]
                                       *pending = codebook_hits(*dev, flat).view({act.size(0), act.size(1)});
                                     }));
  hooks_.push_back(model.hooks().add({codebook_.layer, HookSite::kMlpOut},
                                     [dev, pending](at::Tensor& act, const HookContext& ctx) {
                                       TORCH_CHECK(pending->defined() && pending->size(0) == act.size(0) &&
                                                       pending->size(1) == act.size(1),
                                                   "codebook at ", ctx.point.to_string(), ": no lookup for this pass");
                                       const auto idx = *pending;  // [batch, pos]
                                       pending->reset();
                                       const auto hit = idx >= 0;
                                       if (!hit.any().item<bool>()) return;  // bit-exact base output
                                       const auto vals = dev->values.index_select(0, idx.clamp_min(0).flatten())
                                                             .view(act.sizes())
                                                             .to(act.scalar_type());
                                       act = at::where(hit.unsqueeze(-1), vals, act);
                                     }));
}

}  // namespace editgate::harness
