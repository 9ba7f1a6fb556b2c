#pragma once
// Measures editors on the trained fixture model, the way the gates
// phrase it (first-token top-1 throughout; fixture objects are one token):
//   efficacy      new object is top-1 on the edit prompt;
//   paraphrase    new object is top-1 on held-out paraphrase prompts, counting
//                 only paraphrases the base model answered with the old object;
//   neighbourhood other subjects' prompts the base answered with the old
//                 object still answer it;
//   preservation  top-1 unchanged vs base on the preservation facts about
//                 other subjects (docs/design.md: "unrelated facts"); the edited
//                 subjects' own other facts are counted apart (relation specificity).
// Used by fixture_edit_test.cpp; the suites/ implement the release gates.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "editors/edit_request.h"
#include "harness/text_model.h"

namespace editgate::testing {

/// The fixture directory: $EDITGATE_FIXTURE_DIR, else <source>/fixtures/default; nullopt when absent.
std::optional<std::filesystem::path> fixture_dir();

struct EditRates {
  int64_t efficacy_hits = 0, efficacy_n = 0;
  int64_t paraphrase_hits = 0, paraphrase_n = 0;
  int64_t neighborhood_hits = 0, neighborhood_n = 0;
  int64_t preservation_hits = 0, preservation_n = 0;
  int64_t same_subject_hits = 0, same_subject_n = 0;  // preservation facts about an edited subject
  std::vector<std::string> efficacy_misses;            // case ids: what a target miss is read from
  std::vector<double> seconds;  // per edit (or per batch)
  std::string time_unit = "edit";
  static double rate(int64_t h, int64_t n) { return n ? static_cast<double>(h) / static_cast<double>(n) : 0.0; }
  double efficacy() const { return rate(efficacy_hits, efficacy_n); }
  double paraphrase() const { return rate(paraphrase_hits, paraphrase_n); }
  double neighborhood() const { return rate(neighborhood_hits, neighborhood_n); }
  double preservation() const { return rate(preservation_hits, preservation_n); }
  double median_seconds() const;
  std::string summary(const std::string& label) const;
};

/// The hyperparameters of `method` for `model`: the file named by
/// $EDITGATE_{METHOD}_HPARAMS, else the embedded editors/hparams/{method}/{model}.json.
nlohmann::json method_hparams(const std::string& method, const std::string& model);

/// Records the four rates and the median time as test properties (JUnit XML).
void record_rates(const EditRates& r);

/// Top-1 next token after each prompt (batched).
std::vector<int64_t> top1(harness::TextModel& model, const std::vector<std::string>& prompts);

/// The preservation facts of <dir>/requests/preservation.json (at most n): prompt and subject.
struct PreservationFact {
  std::string prompt;
  std::string subject;
};
std::vector<PreservationFact> preservation_facts(const std::filesystem::path& dir, int64_t n);

/// Scores `requests` on the current (edited) model against the base answers
/// (`base_top1` for each request's prompts, `base_preservation` for `preservation`).
class EditScorer {
 public:
  EditScorer(harness::TextModel& base, const std::vector<editors::EditRequest>& requests,
             std::vector<PreservationFact> preservation);
  /// Adds the measurements of requests [begin, end) on the model's current weights.
  void score(harness::TextModel& edited, size_t begin, size_t end, EditRates& rates) const;

 private:
  const std::vector<editors::EditRequest>& requests_;
  std::vector<PreservationFact> preservation_;
  std::vector<int64_t> preservation_base_;             // [n_preservation]
  std::vector<std::vector<int64_t>> paraphrase_base_;  // per request
  std::vector<std::vector<int64_t>> neighborhood_base_;
  std::vector<int64_t> new_id_, old_id_;               // first token of " target"
};

}  // namespace editgate::testing
