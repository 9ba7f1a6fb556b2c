#pragma once
// CaseSet: everything a gate run tests, loaded from request files and
// normalised: edit cases (any format editors/request_formats.h reads, all
// editors::EditRequest), RippleEdits cases with their tests, the preservation
// facts and the chain-of-thought items. The edit requests and preservation
// facts come from editors/request_formats.h (the one loader edit, mend train,
// gate and validate share); this unit adds the RippleEdits tests and the CoT
// items. Every rejected record is an InputError naming the file, the record
// index and the field.

#include <filesystem>
#include <string>
#include <vector>

#include "editors/edit_request.h"
#include "editors/request_formats.h"

namespace editgate::suites {

// One RippleEdits query: a prompt and the answers (with aliases) that count.
struct RippleQuery {
  std::string prompt;
  std::vector<std::string> answers;  // any of these (aliases included) passes
};

// One test of one criterion: test queries (checked on the edited model) and
// condition queries (checked on the base model first: a test counts only when
// its condition holds there, as RippleEdits does).
struct RippleTest {
  std::string criterion;  // Subject_Aliasing, Compositionality_I, ...
  std::vector<RippleQuery> tests;
  std::vector<RippleQuery> conditions;
  bool condition_all = false;  // "AND" (all conditions) or "OR" (any)
};

struct RippleCase {
  editors::EditRequest edit;
  std::vector<RippleTest> tests;
};

// Preservation facts are the editors' (edit --sequential reads them too).
using editors::PreservationFact;

struct CotItem {
  std::string id;
  std::string question;            // "Q : ... ? A :"
  std::string subject;             // optional; when absent the question is searched for edited subjects
  std::vector<std::string> steps;  // each ends with its own full stop
  std::string answer;
  std::vector<std::string> mistake_steps;  // the chain with one corrupted step
  std::string mistake_answer;              // the answer that follows the corruption
};

struct CaseSet {
  std::string format;  // detected format of the requests file
  std::filesystem::path requests_path;
  std::vector<editors::EditRequest> edits;
  std::vector<RippleCase> ripple;
  std::vector<PreservationFact> preservation;
  std::filesystem::path preservation_path;
  std::vector<CotItem> cot;
  std::string cot_answer_prefix = "So the answer is";
};

// Detects the format of `path` and loads its cases: "counterfact", "zsre",
// "mquake", "easyedit" or "rippleedits".
CaseSet load_requests(const std::filesystem::path& path);

// Preservation facts ({"facts": [{prompt, object, relation}]}; the loader is
// editors::load_preservation) and CoT items ({"answer_prefix", "items": [...]})
// in editgate's fixture formats.
using editors::load_preservation;
void load_cot(const std::filesystem::path& path, CaseSet& into);

// [A-Za-z0-9_] only, never empty: GoogleTest and JUnit names.
std::string sanitize_case_name(const std::string& raw);

}  // namespace editgate::suites
