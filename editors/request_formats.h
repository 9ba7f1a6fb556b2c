#pragma once
// Request formats: the one loader of edit requests every command uses (edit,
// mend train, gate, validate). It detects a file's format and normalises its
// records into EditRequest: CounterFact (edit_request.h owns that format's
// validation), zsRE, MQuAKE (each requested rewrite is one edit), EasyEdit and
// RippleEdits (the edit of each record; its tests are the suites'). Also the
// preservation facts (unrelated facts an edit must not change), which the
// gate's preservation suite and `edit --sequential` read alike. Every rejected
// record is an InputError naming the file, the record and the field.

#include <nlohmann/json_fwd.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "editors/edit_request.h"

namespace editgate::editors {

struct EditRequestSet {
  std::string format;  // "counterfact", "zsre", "mquake", "easyedit" or "rippleedits"
  std::vector<EditRequest> edits;
};

/// The document as a list of records: a single record object (which the
/// CounterFact loader has always accepted) becomes a list of one.
nlohmann::json request_records(const nlohmann::json& doc);

/// The format of a parsed requests document (a non-empty list of records),
/// decided by its first record; InputError listing the formats otherwise.
std::string detect_request_format(const nlohmann::json& doc, const std::string& path);

/// The edit requests of a document in any of the five formats (a list of
/// records, or one record).
EditRequestSet parse_edit_requests(const nlohmann::json& doc, const std::string& path);

/// Reads `path` and parses it as above.
EditRequestSet load_edit_requests(const std::filesystem::path& path);

// An unrelated fact the edit must not change.
struct PreservationFact {
  std::string prompt;
  std::string object;
  std::string relation;
  std::string subject;  // optional; when absent the prompt is searched for edited subjects
};

/// Preservation facts: {"facts": [{prompt, object, relation?, subject?}]}
/// (the fixture's requests/preservation.json). With `prompts_only` the object
/// may be missing and the document may also be a plain list of prompts or
/// facts, for uses that compare the model's own answers before and after.
std::vector<PreservationFact> load_preservation(const std::filesystem::path& path, bool prompts_only = false);

}  // namespace editgate::editors
