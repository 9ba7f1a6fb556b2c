// One full gate run on the committed fixture (base = edited = fixtures/default,
// the CounterFact-style requests, every suite that needs no eraser), as
// `editgate gate` runs it: loading both checkpoints, the suites and the gates.

#include <benchmark/benchmark.h>

#include <string>

#include "suites/bench/bench_timer.h"
#include "suites/bench/device_peak.h"
#include "suites/suite_runner.h"

namespace {

namespace bench = editgate::bench;

void suite_run(benchmark::State& state) {
  editgate::suites::RunConfig c;
  const std::string fixture = std::string(EDITGATE_SOURCE_DIR) + "/fixtures/default";
  c.base_dir = fixture;
  c.edited_dir = fixture;
  c.requests = fixture + "/requests/edits.counterfact.json";
  c.device = bench::bench_device().str();
  c.show_progress = false;
  size_t cases = 0;
  {  // check once: the suites ran and measured cases
    const auto report = editgate::suites::run_gate(c);
    for (const auto& s : report.suites) {
      if (!s.skipped) cases += s.cases.size();
    }
    if (report.suites.empty() || cases == 0) state.SkipWithError("no suite measured any case");
  }
  bench::timed_iterations(state, [&] {
    auto report = editgate::suites::run_gate(c);
    benchmark::DoNotOptimize(report);
  });
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(cases));
  state.counters["cases"] = static_cast<double>(cases);
}

BENCHMARK(suite_run)->Name("BM_SuiteRun/fixture")->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(1);

}  // namespace
