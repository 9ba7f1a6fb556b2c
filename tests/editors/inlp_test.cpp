// INLP, the baseline: it drives the held-out probe toward chance with an
// orthogonal projection, removes at least as many directions as LEACE, and
// changes the data more than LEACE does.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <iostream>

#include "editors/erasure_split.h"
#include "editors/inlp.h"
#include "editors/probe_recovery.h"
#include "tests/editors/synthetic_concept.h"

namespace editgate::testing {
namespace {

TEST(Inlp, ReachesChanceWithAnOrthogonalProjection) {
  const auto data = make_concept({.n = 4000, .d = 16, .k = 3, .linear = 2.0, .seed = 21});
  const auto split = editors::ProbeSplit::stratified(data, 0.3, 1);
  const auto r = editors::fit_inlp(split.train(), split.test(), {.max_iterations = 10, .margin = 0.02});
  EXPECT_TRUE(r.reached_chance) << r.to_json().dump();
  EXPECT_GE(r.rank_removed(), 2);
  EXPECT_GT(r.dev_accuracy.front(), 0.8);
  const at::Tensor p = r.eraser.projection();
  EXPECT_LT(max_diff(p, p.t()), 1e-10);             // orthogonal: symmetric
  EXPECT_LT(max_diff(at::matmul(p, p), p), 1e-10);  // and idempotent
  EXPECT_LT(max_diff(at::matmul(r.eraser.proj_right, r.eraser.proj_left),
                     at::eye(r.rank_removed(), at::kDouble)), 1e-10);
}

TEST(Inlp, ChangesMoreThanLeaceForTheSameConcept) {
  const auto data = make_concept({.n = 6000, .d = 16, .k = 2, .linear = 1.5, .seed = 22});
  const auto split = editors::ErasureSplit::stratified(data, {0.4, 0.3}, 5);
  editors::ProbeSuiteOptions probes;
  probes.quadratic = false;
  probes.inlp = true;
  const auto ev = editors::evaluate_erasure(split, {}, probes);
  ASSERT_TRUE(ev.inlp.has_value());
  std::cout << "LEACE rank " << ev.fit.rank << ", change " << ev.mean_squared_change << ", probe after "
            << ev.linear_after.accuracy << "; INLP rank " << ev.inlp->rank_removed() << ", change "
            << ev.inlp_mean_squared_change << ", probe after " << ev.inlp_linear_after->accuracy << " (chance "
            << ev.linear_after.chance_accuracy << ")\n";
  EXPECT_GE(ev.inlp->rank_removed(), ev.fit.rank);
  EXPECT_GT(ev.inlp_mean_squared_change, ev.mean_squared_change);
  EXPECT_TRUE(ev.to_json().contains("inlp"));
}

}  // namespace
}  // namespace editgate::testing
