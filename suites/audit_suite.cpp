// Audit: the gate checks the edited checkpoint against its base and its own
// manifest, so a change no suite can see in behaviour (noise that moves no
// top-1 answer, an undeclared tensor) still fails the run, and a change that
// every suite would see only as symptoms (a different tokenizer: the same
// prompts become other ids) fails by name. The manifest comparison is
// editors/audit.h's, the tokenizer comparison harness/tokenizer_diff.h's.

#include <chrono>
#include <filesystem>

#include "editors/audit.h"
#include "harness/tokenizer_diff.h"
#include "suites/suites.h"

namespace editgate::suites {
namespace {

harness::Metric metric(const char* name, double value, const char* description) {
  harness::Metric m;
  m.name = name;
  m.value = value;
  m.description = description;
  return m;
}

}  // namespace

harness::SuiteResult run_audit(SuiteContext& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  harness::SuiteResult suite;
  suite.name = "Audit";
  namespace fs = std::filesystem;
  if (!ctx.base_dir.empty() && !ctx.edited_dir.empty() && fs::equivalent(ctx.base_dir, ctx.edited_dir)) {
    suite.skipped = true;
    suite.skip_reason = "the edited checkpoint is the base";
    return suite;
  }
  const auto tokenizer = harness::tokenizer_differences(ctx.base.tokenizer(), ctx.edited.tokenizer());
  const bool has_manifest = !ctx.edited_dir.empty() && fs::exists(ctx.edited_dir / "edit_manifest.json");
  if (!has_manifest && tokenizer.empty()) {
    suite.skipped = true;
    suite.skip_reason = "no edit_manifest.json in the edited checkpoint (no claims to check), and the tokenizers agree";
    return suite;
  }
  size_t problems = tokenizer.empty() ? 0 : 1;
  harness::CaseResult tok;
  tok.name = "tokenizer";
  tok.case_id = "tokenizer";
  tok.passed = tokenizer.empty();
  if (!tokenizer.empty()) tok.message = "tokenizer differs: ";
  for (size_t i = 0; i < tokenizer.size(); ++i) tok.message += (i ? "; " : "") + tokenizer[i];
  double changed = 0;
  if (has_manifest) {
    const auto audit = editors::audit_checkpoints(ctx.base_dir, ctx.edited_dir);
    problems += audit.problems.size();
    changed = static_cast<double>(audit.changed.size());
    harness::CaseResult c;
    c.name = "manifest_claims";
    c.case_id = "edit_manifest.json";
    c.passed = audit.pass();
    for (const auto& p : audit.problems) c.message += (c.message.empty() ? "" : "; ") + p;
    suite.cases.push_back(std::move(c));
  }
  suite.metrics = {metric("audit_problems", static_cast<double>(problems),
                          "differences between the checkpoint and its base's tokenizer or its edit_manifest.json"),
                   metric("changed_tensors", changed,
                          has_manifest ? "tensors whose bytes differ from the base" : "not measured: no edit_manifest.json")};
  suite.cases.insert(suite.cases.begin(), std::move(tok));
  for (auto& c : suite.cases) c.metrics = suite.metrics;
  suite.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return suite;
}

}  // namespace editgate::suites
