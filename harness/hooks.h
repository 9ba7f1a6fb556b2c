#pragma once
// Hook registry: callbacks that read (cache) or replace activations at hook
// points during a forward pass. Free when unused: a forward pass asks
// `active(point)` (one vector lookup) before doing any hook work. Handles are
// RAII: a hook is removed when the scope that installed it ends. This unit owns
// the registry and a few ready-made callbacks; the model decides where the
// hook points are.

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>
#include <vector>

#include "harness/hook_names.h"

namespace editgate::harness {

// What a hook sees besides the activation.
struct HookContext {
  HookPoint point;
  // Absolute position of the activation's first column (non-zero when a KV cache
  // holds earlier tokens), so position-targeted hooks also work in generation.
  int64_t position_offset = 0;
};

// A hook receives the activation ([batch, pos, ...], see hook_names.h) and may
// assign a replacement of the same shape to it. It must not resize it.
using HookFn = std::function<void(at::Tensor& activation, const HookContext& ctx)>;

class HookRegistry;

// Removes its hook when destroyed. Movable, not copyable.
class HookHandle {
 public:
  HookHandle() = default;
  HookHandle(HookRegistry* registry, uint64_t id) : registry_(registry), id_(id) {}
  HookHandle(HookHandle&& other) noexcept;
  HookHandle& operator=(HookHandle&& other) noexcept;
  HookHandle(const HookHandle&) = delete;
  HookHandle& operator=(const HookHandle&) = delete;
  ~HookHandle();
  void remove();

 private:
  HookRegistry* registry_ = nullptr;  // not owned; outlived by the handle's scope
  uint64_t id_ = 0;
};

class HookRegistry {
 public:
  explicit HookRegistry(int64_t n_layers);

  [[nodiscard]] HookHandle add(HookPoint point, HookFn fn);
  bool active(HookPoint point) const { return counts_[index(point)] != 0; }
  bool empty() const { return total_ == 0; }
  // Runs the hooks at `point` in installation order; returns the (maybe replaced) activation.
  at::Tensor run(HookPoint point, at::Tensor activation, int64_t position_offset) const;
  int64_t n_layers() const { return n_layers_; }

 private:
  friend class HookHandle;
  void remove(uint64_t id);
  size_t index(HookPoint p) const;

  struct Entry {
    uint64_t id;
    HookPoint point;
    HookFn fn;
  };
  int64_t n_layers_;
  std::vector<int> counts_;  // hooks installed per (layer, site)
  std::vector<Entry> entries_;
  uint64_t next_id_ = 1;
  int total_ = 0;
};

// Ready-made hooks ---------------------------------------------------------

// Stores a detached copy of the activation into *out (overwritten each call).
HookFn cache_into(std::shared_ptr<at::Tensor> out);

// Replaces, for each batch row b, the activation at absolute position
// positions[b] with values[b] ([batch, ...trailing dims]); rows whose position
// is outside the current columns are left alone (so it also works with a KV cache).
HookFn replace_at_positions(std::vector<int64_t> positions, at::Tensor values);

// Adds delta[b] at positions[b] (ROME/MEMIT's v optimisation uses this).
HookFn add_at_positions(std::vector<int64_t> positions, at::Tensor delta);

}  // namespace editgate::harness
