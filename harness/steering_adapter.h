#pragma once
// Activation steering (representation engineering; Turner et al. 2023 "ActAdd",
// Zou et al. 2023): a vector added, times a scale, to one hook point's
// activation at every token position during inference. The vector is the
// difference of the mean activations of two prompt sets (editors/steering.h
// fits it). Installed through the hook registry; the base weights are never
// touched, so a checkpoint directory holding the base plus a steering file
// named by edit_manifest.json's "adapter" is gated like any edited checkpoint.
//
// This unit owns the type, its file (steering_vector.safetensors: tensor
// "vector" F32 [width]; __metadata__ "format" = "editgate.steering_vector",
// "version" = "1", "hook", "scale") and installing it.

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <string>

#include "harness/hook_names.h"
#include "harness/hooks.h"
#include "harness/model_config.h"

namespace editgate::harness {

class Transformer;

inline constexpr const char* kSteeringFile = "steering_vector.safetensors";
inline constexpr const char* kSteeringFormat = "editgate.steering_vector";
inline constexpr const char* kSteeringAdapterKind = "steering_vector";  // edit_manifest.json "adapter.kind"

struct SteeringVector {
  HookPoint point;      // where it is added
  at::Tensor vector;    // [width] float32, CPU (width of the hook's trailing dims, flattened)
  double scale = 1.0;   // added as scale * vector
};

/// Width of the activation at `site` with its trailing dims flattened:
/// d_model, d_mlp, or n_heads * d_head for attn.hook_z.
int64_t hook_site_width(const ModelConfig& config, HookSite site);

/// InputError naming the file and field for anything missing or malformed, or a width that does not fit `config`.
SteeringVector read_steering(const std::filesystem::path& path, const ModelConfig& config);
/// Writes it atomically.
void write_steering(const std::filesystem::path& path, const SteeringVector& steering);

/// A steering vector installed in a model for as long as this object lives.
class SteeringAdapter {
 public:
  SteeringAdapter(Transformer& model, SteeringVector steering);
  const SteeringVector& steering() const { return steering_; }

 private:
  SteeringVector steering_;
  HookHandle hook_;
};

}  // namespace editgate::harness
