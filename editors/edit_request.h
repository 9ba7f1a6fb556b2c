#pragma once
// EditRequest: one requested fact rewrite, normalised from the request files
// editors and suites read (every format of request_formats.h maps onto it;
// that unit is the loader commands use). This unit owns the normalised type and the
// CounterFact loader's validation: every rejected record names the file, the
// case id and the field. Tokenising targets is the editor's job (a target that
// encodes to no token is rejected there, with the same kind of message).
//
// CounterFact record (kmeng01/rome dsets/counterfact.py):
//   {"case_id": 0, "requested_rewrite": {"prompt": "The mother tongue of {} is",
//    "subject": "Danielle Darrieux", "target_new": {"str": "English"},
//    "target_true": {"str": "French"}, "relation_id": "P103"},
//    "paraphrase_prompts": [...], "neighborhood_prompts": [...],
//    "attribute_prompts": [...], "generation_prompts": [...]}

#include <nlohmann/json_fwd.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace editgate::editors {

struct EditRequest {
  std::string case_id;      // as in the file (a number is kept as its decimal text)
  std::string prompt;       // contains "{}" exactly once, where the subject goes
  std::string subject;      // non-empty
  std::string target_new;   // as in the file, without the leading space editors add
  std::string target_true;  // may be empty (zsRE-style records have no old object)
  std::string relation_id;  // optional
  std::vector<std::string> paraphrase_prompts;    // full prompts, subject filled in
  std::vector<std::string> neighborhood_prompts;  // other subjects with the old object
  std::vector<std::string> attribute_prompts;     // other subjects with the new object
  std::vector<std::string> generation_prompts;

  /// The prompt with the subject in place of "{}".
  std::string filled_prompt() const;
  /// Byte offset just past the subject in filled_prompt().
  size_t subject_end() const;
};

/// Parses a CounterFact document: a JSON array of records (a single record
/// object is accepted too). InputError naming `path`, the record's case id
/// (or index) and the field for: a missing or mistyped field, a prompt without
/// "{}" or with it twice, an empty subject or target, a duplicate case id.
std::vector<EditRequest> parse_counterfact_requests(const nlohmann::json& doc, const std::string& path);

/// Reads and parses `path`; InputError for an unreadable file or invalid JSON.
std::vector<EditRequest> load_counterfact_requests(const std::filesystem::path& path);

/// The request as a CounterFact record (for manifests): round-trips through
/// parse_counterfact_requests.
nlohmann::ordered_json to_counterfact_json(const EditRequest& request);

/// " " + target unless it already starts with whitespace (ROME's convention:
/// targets are scored as continuations with their leading space).
std::string with_leading_space(const std::string& target);

}  // namespace editgate::editors
