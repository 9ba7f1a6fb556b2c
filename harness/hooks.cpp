#include "harness/hooks.h"

#include <ATen/ATen.h>

#include <algorithm>

namespace editgate::harness {

HookHandle::HookHandle(HookHandle&& other) noexcept : registry_(other.registry_), id_(other.id_) {
  other.registry_ = nullptr;
}

HookHandle& HookHandle::operator=(HookHandle&& other) noexcept {
  if (this != &other) {
    remove();
    registry_ = other.registry_;
    id_ = other.id_;
    other.registry_ = nullptr;
  }
  return *this;
}

HookHandle::~HookHandle() { remove(); }

void HookHandle::remove() {
  if (registry_ != nullptr) registry_->remove(id_);
  registry_ = nullptr;
}

HookRegistry::HookRegistry(int64_t n_layers)
    : n_layers_(n_layers), counts_(static_cast<size_t>(n_layers) * kNumHookSites, 0) {}

size_t HookRegistry::index(HookPoint p) const {
  TORCH_CHECK(p.layer >= 0 && p.layer < n_layers_, "hook layer ", p.layer, " out of range [0, ",
              n_layers_, ")");
  return static_cast<size_t>(p.layer) * kNumHookSites + static_cast<size_t>(p.site);
}

HookHandle HookRegistry::add(HookPoint point, HookFn fn) {
  const auto i = index(point);
  const uint64_t id = next_id_++;
  entries_.push_back(Entry{id, point, std::move(fn)});
  ++counts_[i];
  ++total_;
  return HookHandle(this, id);
}

void HookRegistry::remove(uint64_t id) {
  auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.id == id; });
  if (it == entries_.end()) return;
  --counts_[index(it->point)];
  --total_;
  entries_.erase(it);
}

at::Tensor HookRegistry::run(HookPoint point, at::Tensor activation, int64_t position_offset) const {
  const HookContext ctx{point, position_offset};
  for (const auto& e : entries_) {
    if (e.point == point) {
      const auto sizes = activation.sizes().vec();
      e.fn(activation, ctx);
      TORCH_CHECK(activation.sizes().vec() == sizes, "hook at ", point.to_string(),
                  " changed the activation's shape");
    }
  }
  return activation;
}

HookFn cache_into(std::shared_ptr<at::Tensor> out) {
  return [out = std::move(out)](at::Tensor& act, const HookContext&) { *out = act.detach().clone(); };
}

namespace {

// Shared by replace/add: applies `op(column, value_row)` at each row's position.
HookFn at_positions(std::vector<int64_t> positions, at::Tensor values, bool add) {
  return [positions = std::move(positions), values = std::move(values), add](at::Tensor& act,
                                                                             const HookContext& ctx) {
    TORCH_CHECK(static_cast<int64_t>(positions.size()) == act.size(0), "hook at ",
                ctx.point.to_string(), ": ", positions.size(), " positions for batch ", act.size(0));
    std::vector<at::Tensor> rows;
    rows.reserve(positions.size());
    bool touched = false;
    for (int64_t b = 0; b < act.size(0); ++b) {
      const int64_t col = positions[b] - ctx.position_offset;
      at::Tensor row = act[b];
      if (col >= 0 && col < act.size(1)) {
        // Rebuild the row out of place so autograd sees the substitution
        // (an in-place write into a saved activation would break backward).
        // Values may be given on the host: a CUDA model's activation decides where they go.
        const auto v = values[b].to(act.device(), act.scalar_type()).unsqueeze(0);
        const auto mid = add ? row.narrow(0, col, 1) + v : v.expand_as(row.narrow(0, col, 1));
        row = at::cat({row.narrow(0, 0, col), mid, row.narrow(0, col + 1, row.size(0) - col - 1)}, 0);
        touched = true;
      }
      rows.push_back(row);
    }
    if (touched) act = at::stack(rows, 0);
  };
}

}  // namespace

HookFn replace_at_positions(std::vector<int64_t> positions, at::Tensor values) {
  return at_positions(std::move(positions), std::move(values), false);
}

HookFn add_at_positions(std::vector<int64_t> positions, at::Tensor delta) {
  return at_positions(std::move(positions), std::move(delta), true);
}

}  // namespace editgate::harness
