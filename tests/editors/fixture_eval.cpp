#include "tests/editors/fixture_eval.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include <gtest/gtest.h>

#include "editors/edit_hparams.h"
#include "editors/embedded_hparams.h"
#include "harness/scoring.h"

namespace editgate::testing {

std::optional<std::filesystem::path> fixture_dir() {
  std::filesystem::path dir = EDITGATE_SOURCE_DIR "/fixtures/default";
  if (const char* env = std::getenv("EDITGATE_FIXTURE_DIR"); env != nullptr && *env != '\0') dir = env;
  if (!std::filesystem::exists(dir / "model.safetensors") || !std::filesystem::exists(dir / "requests")) return std::nullopt;
  return dir;
}

nlohmann::json method_hparams(const std::string& method, const std::string& model) {
  std::string env = "EDITGATE_" + method + "_HPARAMS";
  for (auto& c : env) c = static_cast<char>(std::toupper(c));
  if (const char* f = std::getenv(env.c_str()); f != nullptr && *f != '\0') return editors::read_hparams_file(f);
  const auto text = editors::embedded_hparams(method + "/" + model);
  if (!text) throw std::runtime_error("no embedded hparams " + method + "/" + model + " (set " + env + ")");
  return nlohmann::json::parse(*text);
}

void record_rates(const EditRates& r) {
  ::testing::Test::RecordProperty("efficacy", std::to_string(r.efficacy()));
  ::testing::Test::RecordProperty("paraphrase", std::to_string(r.paraphrase()));
  ::testing::Test::RecordProperty("neighborhood", std::to_string(r.neighborhood()));
  ::testing::Test::RecordProperty("preservation", std::to_string(r.preservation()));
  ::testing::Test::RecordProperty("median_seconds", std::to_string(r.median_seconds()));
}

double EditRates::median_seconds() const {
  if (seconds.empty()) return 0;
  auto s = seconds;
  std::sort(s.begin(), s.end());
  return s[s.size() / 2];
}

std::string EditRates::summary(const std::string& label) const {
  // The ids are for following a few misses up; a collapse of hundreds is told by its count.
  constexpr std::size_t kListed = 20;
  std::string misses;
  if (!efficacy_misses.empty()) {
    const auto shown = std::min(kListed, efficacy_misses.size());
    const auto more = efficacy_misses.size() - shown;
    misses = fmt::format(" [efficacy missed on cases {}{}]",
                         fmt::join(efficacy_misses.begin(), efficacy_misses.begin() + static_cast<std::ptrdiff_t>(shown), ", "),
                         more == 0 ? "" : fmt::format(" and {} more", more));
  }
  return fmt::format(
      "{}: efficacy {:.3f} ({}/{}), paraphrase {:.3f} ({}/{}), neighbourhood {:.3f} ({}/{}), preservation {:.4f} "
      "({}/{} unrelated facts; the edited subjects' other facts kept {}/{}), median {:.3f} s per {}",
      label, efficacy(), efficacy_hits, efficacy_n, paraphrase(), paraphrase_hits, paraphrase_n, neighborhood(),
      neighborhood_hits, neighborhood_n, preservation(), preservation_hits, preservation_n, same_subject_hits,
      same_subject_n, median_seconds(), time_unit) + misses;
}

std::vector<int64_t> top1(harness::TextModel& tm, const std::vector<std::string>& prompts) {
  if (prompts.empty()) return {};
  c10::NoGradGuard ng;
  std::vector<std::vector<int64_t>> ids;
  for (const auto& p : prompts) ids.push_back(tm.encode_prompt(p));
  const auto lp = harness::next_token_logprobs(tm.model(), ids, 256);  // [n, vocab]
  const auto am = lp.argmax(1).contiguous();
  return {am.data_ptr<int64_t>(), am.data_ptr<int64_t>() + am.numel()};
}

std::vector<PreservationFact> preservation_facts(const std::filesystem::path& dir, int64_t n) {
  std::ifstream in(dir / "requests" / "preservation.json");
  const auto j = nlohmann::json::parse(in);
  std::vector<PreservationFact> out;
  for (const auto& f : j["facts"]) {
    if (static_cast<int64_t>(out.size()) >= n) break;
    out.push_back({f["prompt"].get<std::string>(), f.value("subject", "")});
  }
  return out;
}

namespace {
std::vector<std::string> prompts_of(const std::vector<PreservationFact>& facts) {
  std::vector<std::string> out;
  for (const auto& f : facts) out.push_back(f.prompt);
  return out;
}
}  // namespace

EditScorer::EditScorer(harness::TextModel& base, const std::vector<editors::EditRequest>& requests,
                       std::vector<PreservationFact> preservation)
    : requests_(requests), preservation_(std::move(preservation)) {
  preservation_base_ = top1(base, prompts_of(preservation_));
  for (const auto& r : requests_) {
    paraphrase_base_.push_back(top1(base, r.paraphrase_prompts));
    neighborhood_base_.push_back(top1(base, r.neighborhood_prompts));
    new_id_.push_back(base.encode_continuation(editors::with_leading_space(r.target_new)).front());
    old_id_.push_back(base.encode_continuation(editors::with_leading_space(r.target_true)).front());
  }
}

void EditScorer::score(harness::TextModel& edited, size_t begin, size_t end, EditRates& rates) const {
  std::vector<std::string> prompts;
  for (size_t i = begin; i < end; ++i) prompts.push_back(requests_[i].filled_prompt());
  const auto eff = top1(edited, prompts);
  for (size_t i = begin; i < end; ++i) {
    const auto& r = requests_[i];
    rates.efficacy_n += 1;
    rates.efficacy_hits += eff[i - begin] == new_id_[i] ? 1 : 0;
    if (eff[i - begin] != new_id_[i]) rates.efficacy_misses.push_back(r.case_id);
    const auto para = top1(edited, r.paraphrase_prompts);
    for (size_t k = 0; k < para.size(); ++k) {
      if (paraphrase_base_[i][k] != old_id_[i]) continue;  // the base did not know it this way
      rates.paraphrase_n += 1;
      rates.paraphrase_hits += para[k] == new_id_[i] ? 1 : 0;
    }
    const auto nb = top1(edited, r.neighborhood_prompts);
    for (size_t k = 0; k < nb.size(); ++k) {
      if (neighborhood_base_[i][k] != old_id_[i]) continue;
      rates.neighborhood_n += 1;
      rates.neighborhood_hits += nb[k] == old_id_[i] ? 1 : 0;
    }
  }
  const auto pres = top1(edited, prompts_of(preservation_));
  for (size_t k = 0; k < pres.size(); ++k) {
    const int64_t kept = pres[k] == preservation_base_[k] ? 1 : 0;
    bool edited_subject = false;
    for (size_t i = begin; i < end && !edited_subject; ++i) edited_subject = preservation_[k].subject == requests_[i].subject;
    // The edited subjects' other facts are relation specificity (RippleEdits),
    // reported apart: the preservation gate is about unrelated facts.
    (edited_subject ? rates.same_subject_n : rates.preservation_n) += 1;
    (edited_subject ? rates.same_subject_hits : rates.preservation_hits) += kept;
  }
}

}  // namespace editgate::testing
