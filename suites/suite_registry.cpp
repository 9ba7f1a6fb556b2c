// The list of suites in report order. Adding a suite is a function in its own
// file plus one line here.

#include "suites/suites.h"

namespace editgate::suites {

const std::vector<SuiteEntry>& all_suites() {
  static const std::vector<SuiteEntry> kSuites = {
      {"Efficacy", run_efficacy},
      {"ParaphraseGeneralization", run_paraphrase_generalization},
      {"FactPreservation", run_fact_preservation},
      {"RippleEffects", run_ripple_effects},
      {"LinearProbeRecovery", run_linear_probe_recovery},
      {"ErasureImpact", run_erasure_impact},
      {"CoTTruncation", run_cot_truncation},
      {"Fluency", run_fluency},
      {"Audit", run_audit},
  };
  return kSuites;
}

}  // namespace editgate::suites
