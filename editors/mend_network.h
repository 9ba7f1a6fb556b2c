#pragma once
// MEND's gradient-transforming hypernetwork (Mitchell et al. 2022;
// eric-mitchell/mend algs/mend.py GradientTransform, nn.py IDMLP/LRLinear).
// One network per weight shape (d_in, d_out), shared by the weights of that
// shape, each weight a "mode" with its own scale and shift. A network maps
// concat(u, delta), normalised by running means and standard deviations, to
// (u~, delta~) through n_hidden + 1 low-rank residual layers
// x + act(U V (x * (1 + scale_m) + shift_m) + b), with U = 0 at the start (so
// the network starts as the identity). The update of weight i is
// dW_i = alpha_i * sum_t delta~_t u~_t^T; the edited weight is W_i - dW_i.
//
// This unit owns the network, its statistics and its tensors by name; the
// training loop is mend.h's, the editor directory mend_editor_file.h's.

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "editors/mend_factors.h"

namespace editgate::editors {

struct MendShape {
  int64_t d_in = 0;   // columns of W ([d_out, d_in])
  int64_t d_out = 0;
  friend bool operator==(const MendShape&, const MendShape&) = default;
};

class MendNetwork {
 public:
  /// `weights` (stable names) with their shapes; identity-initialised, the
  /// statistics empty (mean 0, std 1), every alpha = edit_lr. `seed` draws V.
  /// `hidden_bias`: the hidden layers' initial bias (MendHparams::hidden_bias).
  MendNetwork(std::vector<std::string> weights, const std::vector<MendShape>& shapes, int64_t rank, int64_t n_hidden,
              double edit_lr, uint64_t seed, at::Device device, double hidden_bias = 0);

  const std::vector<std::string>& weights() const { return weights_; }
  MendShape shape(size_t i) const { return groups_[group_of_[i]].shape; }
  int64_t rank() const { return rank_; }
  int64_t n_hidden() const { return n_hidden_; }

  /// (u~ [tokens, d_in], delta~ [tokens, d_out]) of weight i; differentiable in the parameters.
  std::pair<at::Tensor, at::Tensor> transform(size_t i, const MendFactors& f) const;
  /// dW_i [d_out, d_in] = alpha_i * sum_t delta~_t u~_t^T.
  at::Tensor update(size_t i, const MendFactors& f) const;
  /// Adds the factors' rows (those with u and delta both non-zero) to weight i's
  /// group's running mean and variance (training only; not differentiable).
  void observe(size_t i, const MendFactors& f);

  /// The trained tensors (network layers), and the alphas, for the optimiser.
  std::vector<at::Tensor> network_parameters() const;
  std::vector<at::Tensor> alphas() const { return alphas_; }
  double alpha(size_t i) const;

  /// Every tensor (parameters, statistics, alphas) by name, on the CPU.
  std::vector<std::pair<std::string, at::Tensor>> named_tensors() const;
  /// Replaces them by `tensors` (as named_tensors() names them); a missing name
  /// or a shape mismatch throws InputError naming `source`.
  void load_tensors(const std::map<std::string, at::Tensor>& tensors, const std::string& source);

 private:
  struct Layer {
    at::Tensor u;      // [dim, rank], zero at init
    at::Tensor v;      // [rank, dim]
    at::Tensor bias;   // [dim]
    at::Tensor scale;  // [modes, dim] the input is x * (1 + scale_m) + shift_m
    at::Tensor shift;  // [modes, dim]
    bool relu = false;
  };
  struct Group {
    MendShape shape;
    int64_t modes = 0;
    std::vector<Layer> layers;
    at::Tensor count;  // [] f64, rows observed
    at::Tensor mean;   // [dim] f64, running mean of concat(u, delta)
    at::Tensor m2;     // [dim] f64, running sum of squared deviations (Welford / Chan)
  };

  std::vector<std::string> weights_;
  std::vector<size_t> group_of_;  // per weight
  std::vector<int64_t> mode_of_;  // per weight, its index among its group's weights
  std::vector<Group> groups_;
  std::vector<at::Tensor> alphas_;  // per weight [] f32
  int64_t rank_ = 0, n_hidden_ = 0;
};

}  // namespace editgate::editors
