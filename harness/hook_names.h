#pragma once
// Hook points: where an activation can be read or replaced. Names are exactly
// TransformerLens's, so people who know that library know ours (plus one of
// editgate's own, mlp.hook_w_out, where TransformerLens has none). This unit owns
// the names and their parsing; hooks.h owns installing callbacks.

#include <cstdint>
#include <string>
#include <string_view>

namespace editgate::harness {

enum class HookSite : uint8_t {
  kResidPre,   // blocks.{l}.hook_resid_pre   [batch, pos, d_model]
  kAttnZ,      // blocks.{l}.attn.hook_z      [batch, pos, n_head, d_head]
  kAttnOut,    // blocks.{l}.hook_attn_out    [batch, pos, d_model]
  kMlpPre,     // blocks.{l}.mlp.hook_pre     [batch, pos, d_mlp] (gate pre-activation for gated MLPs)
  kMlpPost,    // blocks.{l}.mlp.hook_post    [batch, pos, d_mlp] input of W_out: ROME/MEMIT keys
  // blocks.{l}.mlp.hook_w_out [batch, pos, d_model]: W_out's own output (its bias
  // included), where ROME writes v*. Not a TransformerLens name: TransformerLens has
  // no hook there. It equals hook_mlp_out except where a norm follows the MLP
  // (Gemma's post_feedforward_layernorm), and the rank-one update must map k* to v*
  // at W_out's output, as the reference hooks the MLP module's output.
  kMlpWOut,
  kMlpOut,     // blocks.{l}.hook_mlp_out     [batch, pos, d_model] what the MLP adds to the residual
  kResidPost,  // blocks.{l}.hook_resid_post  [batch, pos, d_model]
};
inline constexpr int kNumHookSites = 8;

struct HookPoint {
  int64_t layer = 0;
  HookSite site = HookSite::kResidPre;

  std::string to_string() const;
  friend bool operator==(const HookPoint&, const HookPoint&) = default;
};

// Parses "blocks.3.mlp.hook_post". Throws InputError naming `context` (a file
// or flag) for an unknown name, listing the valid ones; when n_layers >= 0 the
// layer must be < n_layers.
HookPoint parse_hook_name(std::string_view name, int64_t n_layers = -1,
                          std::string_view context = "--hook");

}  // namespace editgate::harness
