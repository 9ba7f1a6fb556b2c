#include "harness/hook_names.h"

#include <array>
#include <charconv>

#include "harness/input_error.h"

namespace editgate::harness {
namespace {

constexpr std::array<std::string_view, kNumHookSites> kSuffixes = {
    "hook_resid_pre", "attn.hook_z",  "hook_attn_out", "mlp.hook_pre",
    "mlp.hook_post",  "mlp.hook_w_out", "hook_mlp_out",  "hook_resid_post"};

std::string valid_names() {
  std::string out;
  for (auto s : kSuffixes) out += (out.empty() ? "blocks.{l}." : ", blocks.{l}.") + std::string(s);
  return out;
}

}  // namespace

std::string HookPoint::to_string() const {
  return "blocks." + std::to_string(layer) + "." + std::string(kSuffixes[static_cast<int>(site)]);
}

HookPoint parse_hook_name(std::string_view name, int64_t n_layers, std::string_view context) {
  const auto fail = [&](const std::string& got) {
    return InputError(std::string(context), "hook", "one of " + valid_names(), got);
  };
  constexpr std::string_view kPrefix = "blocks.";
  if (!name.starts_with(kPrefix)) throw fail("'" + std::string(name) + "'");
  name.remove_prefix(kPrefix.size());
  int64_t layer = -1;
  const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), layer);
  if (ec != std::errc() || end == name.data() || end == name.data() + name.size() || *end != '.' || layer < 0) {
    throw fail("'blocks." + std::string(name) + "' (bad layer number)");
  }
  const std::string_view suffix(end + 1, name.data() + name.size() - (end + 1));
  for (int i = 0; i < kNumHookSites; ++i) {
    if (suffix == kSuffixes[i]) {
      if (n_layers >= 0 && layer >= n_layers) {
        throw InputError(std::string(context), "hook", "a layer below " + std::to_string(n_layers),
                         "layer " + std::to_string(layer));
      }
      return HookPoint{layer, static_cast<HookSite>(i)};
    }
  }
  throw fail("'" + std::string(suffix) + "'");
}

}  // namespace editgate::harness
