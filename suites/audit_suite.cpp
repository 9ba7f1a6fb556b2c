// Audit: the gate checks the edited checkpoint against its own manifest, so a
// change no suite can see in behaviour (noise that moves no top-1 answer, an
// undeclared tensor) still fails the run. The comparison is editors/audit.h's.

#include <chrono>
#include <filesystem>

#include "editors/audit.h"
#include "suites/suites.h"

namespace editgate::suites {

harness::SuiteResult run_audit(SuiteContext& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  harness::SuiteResult suite;
  suite.name = "Audit";
  namespace fs = std::filesystem;
  if (ctx.edited_dir.empty() || !fs::exists(ctx.edited_dir / "edit_manifest.json")) {
    suite.skipped = true;
    suite.skip_reason = "no edit_manifest.json in the edited checkpoint: no claims to check";
    return suite;
  }
  if (!ctx.base_dir.empty() && fs::equivalent(ctx.base_dir, ctx.edited_dir)) {
    suite.skipped = true;
    suite.skip_reason = "the edited checkpoint is the base";
    return suite;
  }
  const auto audit = editors::audit_checkpoints(ctx.base_dir, ctx.edited_dir);
  harness::Metric problems;
  problems.name = "audit_problems";
  problems.value = static_cast<double>(audit.problems.size());
  problems.description = "differences between the checkpoint and its edit_manifest.json";
  harness::Metric changed;
  changed.name = "changed_tensors";
  changed.value = static_cast<double>(audit.changed.size());
  changed.description = "tensors whose bytes differ from the base";
  suite.metrics = {problems, changed};
  harness::CaseResult c;
  c.name = "manifest_claims";
  c.case_id = "edit_manifest.json";
  c.passed = audit.pass();
  for (const auto& p : audit.problems) c.message += (c.message.empty() ? "" : "; ") + p;
  c.metrics = suite.metrics;
  suite.cases.push_back(std::move(c));
  suite.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return suite;
}

}  // namespace editgate::suites
