#include "editors/lbfgs.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <deque>

namespace editgate::editors {

LbfgsResult minimize_lbfgs(const Objective& objective, const at::Tensor& x0, const LbfgsOptions& options) {
  constexpr double kArmijo = 1e-4;
  constexpr int kMaxHalvings = 60;
  LbfgsResult r;
  at::Tensor x = x0.clone();
  at::Tensor g;
  double f = objective(x, g);
  r.evaluations = 1;
  std::deque<at::Tensor> s_hist, y_hist;  // each [p]
  std::deque<double> rho_hist;

  for (r.iterations = 0; r.iterations < options.max_iter; ++r.iterations) {
    if (g.abs().max().item<double>() <= options.gtol) {
      r.converged = true;
      break;
    }
    // Two-loop recursion: d = -H g.
    at::Tensor q = g.clone();
    std::vector<double> alpha(s_hist.size());
    for (int64_t i = static_cast<int64_t>(s_hist.size()) - 1; i >= 0; --i) {
      alpha[i] = rho_hist[i] * at::dot(s_hist[i], q).item<double>();
      q.sub_(y_hist[i], alpha[i]);
    }
    if (!s_hist.empty()) {
      const double gamma = at::dot(s_hist.back(), y_hist.back()).item<double>() /
                           at::dot(y_hist.back(), y_hist.back()).item<double>();
      q.mul_(gamma);
    }
    for (size_t i = 0; i < s_hist.size(); ++i) {
      const double beta = rho_hist[i] * at::dot(y_hist[i], q).item<double>();
      q.add_(s_hist[i], alpha[i] - beta);
    }
    at::Tensor d = -q;
    double slope = at::dot(g, d).item<double>();
    if (!(slope < 0)) {  // not a descent direction (should not happen for convex f): restart
      s_hist.clear(), y_hist.clear(), rho_hist.clear();
      d = -g;
      slope = -at::dot(g, g).item<double>();
    }
    // First step scaled like torch's LBFGS, then unit steps (the quasi-Newton scale).
    double t = s_hist.empty() ? std::min(1.0, 1.0 / g.abs().sum().item<double>()) : 1.0;
    at::Tensor x_new, g_new;
    double f_new = 0.0;
    bool accepted = false;
    for (int h = 0; h < kMaxHalvings; ++h, t *= 0.5) {
      x_new = x + t * d;
      f_new = objective(x_new, g_new);
      ++r.evaluations;
      if (std::isfinite(f_new) && f_new <= f + kArmijo * t * slope) {
        accepted = true;
        break;
      }
    }
    if (!accepted) {  // no decrease representable: we are at the optimum to rounding
      r.converged = true;
      break;
    }
    at::Tensor s = x_new - x;
    at::Tensor y = g_new - g;
    const double sy = at::dot(s, y).item<double>();
    if (sy > 1e-12 * at::dot(y, y).item<double>()) {
      s_hist.push_back(s), y_hist.push_back(y), rho_hist.push_back(1.0 / sy);
      if (static_cast<int64_t>(s_hist.size()) > options.history) {
        s_hist.pop_front(), y_hist.pop_front(), rho_hist.pop_front();
      }
    }
    const double decrease = f - f_new;
    x = x_new, g = g_new;
    const double f_old = f;
    f = f_new;
    if (decrease <= options.ftol * std::max({std::abs(f_old), std::abs(f_new), 1.0})) {
      ++r.iterations;
      r.converged = true;
      break;
    }
  }
  r.x = x;
  r.f = f;
  r.grad_max = g.abs().max().item<double>();
  return r;
}

}  // namespace editgate::editors
