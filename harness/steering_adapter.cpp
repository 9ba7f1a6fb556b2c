#include "harness/steering_adapter.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <memory>

#include "harness/input_error.h"
#include "harness/safetensors_reader.h"
#include "harness/safetensors_writer.h"
#include "harness/transformer.h"

namespace editgate::harness {
namespace {

std::string meta(const SafetensorsFile& f, const std::string& key) {
  const auto it = f.metadata().find(key);
  if (it == f.metadata().end()) {
    throw InputError(f.path().string(), "__metadata__." + key, "a value", "nothing",
                     "write steering vectors with `editgate steer`");
  }
  return it->second;
}

}  // namespace

int64_t hook_site_width(const ModelConfig& config, HookSite site) {
  switch (site) {
    case HookSite::kMlpPre:
    case HookSite::kMlpPost:
      return config.d_mlp;
    case HookSite::kAttnZ:
      return config.n_heads * config.d_head;
    default:
      return config.d_model;
  }
}

SteeringVector read_steering(const std::filesystem::path& path, const ModelConfig& config) {
  const auto f = SafetensorsFile::open(path);
  if (meta(*f, "format") != kSteeringFormat) {
    throw InputError(path.string(), "__metadata__.format", kSteeringFormat, meta(*f, "format"));
  }
  if (meta(*f, "version") != "1") throw InputError(path.string(), "__metadata__.version", "1", meta(*f, "version"));
  SteeringVector s;
  s.point = parse_hook_name(meta(*f, "hook"), config.n_layers, path.string() + ": __metadata__.hook");
  try {
    s.scale = std::stod(meta(*f, "scale"));
  } catch (const std::logic_error&) {
    throw InputError(path.string(), "__metadata__.scale", "a number", meta(*f, "scale"));
  }
  const auto* info = f->find("vector");
  const int64_t width = hook_site_width(config, s.point.site);
  if (info == nullptr || info->dtype_name != "F32" || info->shape != std::vector<int64_t>{width}) {
    throw InputError(path.string(), "tensor 'vector'", fmt::format("F32 [{}] for {}", width, s.point.to_string()),
                     info == nullptr ? "nothing" : info->dtype_name + " of another shape");
  }
  s.vector = f->tensor("vector").clone();
  return s;
}

void write_steering(const std::filesystem::path& path, const SteeringVector& s) {
  write_safetensors(path, {{"vector", s.vector.to(at::kCPU, at::kFloat).contiguous()}},
                    {{"format", kSteeringFormat},
                     {"version", "1"},
                     {"hook", s.point.to_string()},
                     {"scale", fmt::format("{}", s.scale)}});
}

SteeringAdapter::SteeringAdapter(Transformer& model, SteeringVector steering) : steering_(std::move(steering)) {
  TORCH_CHECK(steering_.vector.dim() == 1 && steering_.vector.size(0) == hook_site_width(model.config(), steering_.point.site),
              "steering vector of width ", steering_.vector.numel(), " for ", steering_.point.to_string());
  auto add = std::make_shared<at::Tensor>((steering_.vector * steering_.scale).to(model.device()));
  hook_ = model.hooks().add(steering_.point, [add](at::Tensor& act, const HookContext&) {
    const auto sizes = act.sizes().vec();  // [batch, pos, ...]
    act = (act.flatten(2) + add->to(act.scalar_type())).view(sizes);
  });
}

}  // namespace editgate::harness
