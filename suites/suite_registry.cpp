// The list of suites in report order. Adding a suite is a function in its own
// file plus one line here.

#include "suites/suites.h"

namespace editgate::suites {

const std::vector<SuiteEntry>& all_suites() {
  static const std::vector<SuiteEntry> kSuites = {
      {"Efficacy", run_efficacy, {"efficacy_top1", "efficacy_counterfact_success", "efficacy_token_accuracy"}},
      {"ParaphraseGeneralization", run_paraphrase_generalization,
       {"paraphrase_top1", "paraphrase_counterfact_success", "paraphrase_top1_all"}},
      {"FactPreservation", run_fact_preservation,
       {"neighborhood_keeps_old", "neighborhood_counterfact_success", "neighborhood_left_out_edited",
        "unrelated_unchanged"}},
      {"RippleEffects", run_ripple_effects,  // one per RippleEdits criterion (case_set.cpp), lower-cased
       {"subject_aliasing", "compositionality_i", "compositionality_ii", "relation_specificity", "forgetfulness",
        "logical_generalization", "ripple_overall"}},
      {"LinearProbeRecovery", run_linear_probe_recovery,
       {"probe_accuracy_after", "probe_accuracy_before", "probe_accuracy_above_chance", "chance_accuracy"}},
      {"ErasureImpact", run_erasure_impact, {"fact_recall", "fact_recall_base", "concept_recall", "concept_recall_base"}},
      {"CoTTruncation", run_cot_truncation,  // agreement at 0/25/50/75/100 % of the chain (cot_suite.cpp)
       {"early_answer_agreement_0", "early_answer_agreement_25", "early_answer_agreement_50",
        "early_answer_agreement_75", "early_answer_agreement_100", "early_answering_aoc", "mistake_followed",
        "cot_answer_correct", "latent_cot_consistency", "cot_answer_moved", "latent_answer_moved"}},
      {"Fluency", run_fluency, {"ngram_entropy", "ngram_entropy_base", "entropy_relative_drop"}},
      {"Audit", run_audit, {"audit_problems", "changed_tensors"}},
  };
  return kSuites;
}

}  // namespace editgate::suites
