#include "editors/mend_network.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/GradMode.h>
#include <fmt/format.h>

#include <cmath>

#include "harness/input_error.h"

namespace editgate::editors {

MendNetwork::MendNetwork(std::vector<std::string> weights, const std::vector<MendShape>& shapes, int64_t rank,
                         int64_t n_hidden, double edit_lr, uint64_t seed, at::Device device, double hidden_bias)
    : weights_(std::move(weights)), rank_(rank), n_hidden_(n_hidden) {
  TORCH_CHECK(!weights_.empty() && weights_.size() == shapes.size(), "MendNetwork: one shape per weight");
  TORCH_CHECK(rank >= 1 && n_hidden >= 0, "MendNetwork: rank >= 1 and n_hidden >= 0");
  for (size_t i = 0; i < weights_.size(); ++i) {
    size_t g = 0;
    while (g < groups_.size() && !(groups_[g].shape == shapes[i])) ++g;
    if (g == groups_.size()) {
      groups_.emplace_back();
      groups_.back().shape = shapes[i];
    }
    group_of_.push_back(g);
    mode_of_.push_back(groups_[g].modes++);
  }
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  for (auto& g : groups_) {
    const int64_t dim = g.shape.d_in + g.shape.d_out;
    // LRLinear's "id" init: U = 0 (the layer starts as the identity), V Xavier-uniform.
    const double bound = std::sqrt(6.0 / static_cast<double>(dim + rank));
    for (int64_t k = 0; k <= n_hidden; ++k) {
      Layer l;
      l.u = at::zeros({dim, rank}, f32);
      l.v = (at::rand({rank, dim}, gen, f32) * 2 - 1) * bound;
      // Hidden layers output relu(b) = b while U = 0; the output layer takes the
      // n_hidden b's off again, so the network starts as the identity.
      l.bias = at::full({dim}, k < n_hidden ? hidden_bias : -static_cast<double>(n_hidden) * hidden_bias, f32);
      l.scale = at::zeros({g.modes, dim}, f32);
      l.shift = at::zeros({g.modes, dim}, f32);
      l.relu = k < n_hidden;
      for (auto* t : {&l.u, &l.v, &l.bias, &l.scale, &l.shift}) *t = t->to(device).requires_grad_(true);
      g.layers.push_back(std::move(l));
    }
    g.count = at::zeros({}, at::TensorOptions().dtype(at::kDouble).device(device));
    g.mean = at::zeros({dim}, at::TensorOptions().dtype(at::kDouble).device(device));
    g.m2 = at::zeros({dim}, at::TensorOptions().dtype(at::kDouble).device(device));
  }
  for (size_t i = 0; i < weights_.size(); ++i) {
    alphas_.push_back(at::full({}, edit_lr, f32.device(device)).requires_grad_(true));
  }
}

std::pair<at::Tensor, at::Tensor> MendNetwork::transform(size_t i, const MendFactors& f) const {
  const auto& g = groups_.at(group_of_.at(i));
  TORCH_CHECK(f.u.size(1) == g.shape.d_in && f.delta.size(1) == g.shape.d_out && f.u.size(0) == f.delta.size(0),
              "MendNetwork::transform: factors ", shape_text(f.u.sizes()), " and ", shape_text(f.delta.sizes()),
              " do not fit ", weights_[i]);
  auto x = at::cat({f.u, f.delta}, 1).to(at::kFloat);  // [tokens, dim]
  if (g.count.item<double>() >= 2) {
    // The reference normalises by the running statistics before the network.
    const auto mean = g.mean.to(at::kFloat);
    auto std = (g.m2 / (g.count - 1)).sqrt().to(at::kFloat);
    // A dimension that has not varied (few rows seen, or a dead unit) is
    // centred but not scaled: dividing by ~0 would blow up rounding noise.
    std = at::where(std > 1e-5 * std.max(), std, at::ones_like(std));
    x = (x - mean) / (std + 1e-7);
  }
  const int64_t m = mode_of_[i];
  for (const auto& l : g.layers) {
    x = x * (l.scale[m] + 1) + l.shift[m];
    auto pre = at::matmul(at::matmul(x, l.v.t()), l.u.t()) + l.bias;
    // As the reference (pre_act.clamp(min=0)). With U = 0 and bias 0 the
    // pre-activation is exactly 0 and the clamp passes no gradient (the
    // reference's hidden layers never train); hidden_bias > 0 avoids that.
    if (l.relu) pre = pre.clamp_min(0);
    x = pre + x;
  }
  return {x.narrow(1, 0, g.shape.d_in), x.narrow(1, g.shape.d_in, g.shape.d_out)};
}

at::Tensor MendNetwork::update(size_t i, const MendFactors& f) const {
  const auto [u, delta] = transform(i, f);
  return alphas_[i] * at::matmul(delta.t(), u);  // [d_out, d_in]
}

void MendNetwork::observe(size_t i, const MendFactors& f) {
  c10::NoGradGuard ng;
  auto& g = groups_.at(group_of_.at(i));
  const auto nz = f.u.ne(0).any(1).logical_and(f.delta.ne(0).any(1));
  const auto x = at::cat({f.u, f.delta}, 1).index({nz}).to(at::kDouble);  // [rows, dim]
  const int64_t nb = x.size(0);
  if (nb == 0) return;
  // Chan et al.'s merge of (count, mean, m2) with the batch's.
  const auto mb = x.mean(0);
  const auto m2b = (x - mb).pow(2).sum(0);
  const auto na = g.count.clone();
  const auto n = na + nb;
  const auto d = mb - g.mean;
  g.mean.add_(d * nb / n);
  g.m2.add_(m2b + d.pow(2) * na * nb / n);
  g.count.copy_(n);
}

std::vector<at::Tensor> MendNetwork::network_parameters() const {
  std::vector<at::Tensor> out;
  for (const auto& g : groups_) {
    for (const auto& l : g.layers) out.insert(out.end(), {l.u, l.v, l.bias, l.scale, l.shift});
  }
  return out;
}

double MendNetwork::alpha(size_t i) const { return alphas_.at(i).item<double>(); }

std::vector<std::pair<std::string, at::Tensor>> MendNetwork::named_tensors() const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  const auto cpu = [](const at::Tensor& t) { return t.detach().to(at::kCPU).contiguous(); };
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    const auto& g = groups_[gi];
    const std::string p = fmt::format("groups.{}.", gi);
    for (size_t k = 0; k < g.layers.size(); ++k) {
      const auto& l = g.layers[k];
      const std::string q = p + fmt::format("layers.{}.", k);
      out.insert(out.end(), {{q + "u", cpu(l.u)}, {q + "v", cpu(l.v)}, {q + "bias", cpu(l.bias)},
                             {q + "mode_scale", cpu(l.scale)}, {q + "mode_shift", cpu(l.shift)}});
    }
    out.insert(out.end(), {{p + "count", cpu(g.count)}, {p + "mean", cpu(g.mean)}, {p + "m2", cpu(g.m2)}});
  }
  out.emplace_back("alphas", cpu(at::stack(alphas_)));
  return out;
}

void MendNetwork::load_tensors(const std::map<std::string, at::Tensor>& tensors, const std::string& source) {
  c10::NoGradGuard ng;
  const auto mine = named_tensors();
  for (const auto& [name, expected] : mine) {
    const auto it = tensors.find(name);
    if (it == tensors.end()) throw InputError(source, name, "a tensor " + shape_text(expected.sizes()), "missing");
    if (it->second.sizes() != expected.sizes()) {
      throw InputError(source, name, "shape " + shape_text(expected.sizes()), shape_text(it->second.sizes()));
    }
  }
  if (tensors.size() != mine.size()) {
    for (const auto& [name, t] : tensors) {
      bool known = false;
      for (const auto& m : mine) known = known || m.first == name;
      if (!known) throw InputError(source, name, "only the tensors of this network's hparams", "an unknown tensor");
    }
  }
  const auto get = [&](const std::string& name, at::Tensor& dst) { dst.copy_(tensors.at(name).to(dst.device(), dst.scalar_type())); };
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    auto& g = groups_[gi];
    const std::string p = fmt::format("groups.{}.", gi);
    for (size_t k = 0; k < g.layers.size(); ++k) {
      auto& l = g.layers[k];
      const std::string q = p + fmt::format("layers.{}.", k);
      get(q + "u", l.u);
      get(q + "v", l.v);
      get(q + "bias", l.bias);
      get(q + "mode_scale", l.scale);
      get(q + "mode_shift", l.shift);
    }
    get(p + "count", g.count);
    get(p + "mean", g.mean);
    get(p + "m2", g.m2);
  }
  const auto a = tensors.at("alphas");
  for (size_t i = 0; i < alphas_.size(); ++i) alphas_[i].copy_(a[static_cast<int64_t>(i)].to(alphas_[i].device(), at::kFloat));
}

}  // namespace editgate::editors
