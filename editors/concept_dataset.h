#pragma once
// ConceptDataset: the concept-erasure dataset file `editgate erase-model` reads
// (the fixture writes erasure.<concept>.json in this format). This unit owns the
// format, its validation, and mapping a record to the token position whose
// activation is fitted and probed; running the model is erase_model.h's job.
//
// Format (JSON; fields not listed are ignored, so writers may add their own):
//   {
//     "format": "editgate.erasure_dataset",      required, exactly this
//     "version": 1,                              required, 1
//     "concept": "gender",                       optional name
//     "classes": ["man", "woman"],               required, >= 2 names; a label indexes this list
//     "concept_relations": ["born_in"],          optional: relations whose facts are the concept
//                                                itself (recall reported apart, not gated)
//     "splits": {                                required, three non-empty lists of records:
//       "fit": [...],                            the eraser is fitted on these
//       "probe_train": [...],                    the probe is trained on these
//       "probe_test": [...]                      and scored on these
//     }
//   }
// A record:
//   {
//     "prompt": "Ana Kolo is a",                 required, non-empty text (no BOS; the model adds it)
//     "label": 1,                                required, integer in [0, classes)
//     "subject_span": [0, 2],                    [start, end) in whitespace-separated words of
//                                                prompt; the activation is read at the subject's
//                                                last token (the last token of prompt[:end of word end-1])
//     "position": 2,                             alternative to subject_span: a token index into the
//                                                prompt's ids (BOS included when the model prepends one);
//                                                one of the two is required, position wins if both
//     "subject_id": "person_0017",               optional string or integer: no id may occur in two
//                                                splits (split by subject, or the probe sees the eraser's data)
//     "relation": "born_in", "object": "Norland" optional: the fact the prompt asks for; fact recall is
//                                                "the continuation ' ' + object is the greedy top-1 at every token"
//   }

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace editgate::harness {
class TextModel;
}

namespace editgate::editors {

inline constexpr const char* kConceptDatasetFormat = "editgate.erasure_dataset";
inline constexpr int64_t kConceptDatasetVersion = 1;

struct ConceptRecord {
  std::string prompt;
  int64_t label = 0;
  std::optional<std::pair<int64_t, int64_t>> subject_span;  // [start, end) in words of prompt
  std::optional<int64_t> position;                          // token index into the prompt's ids
  std::string subject_id;                                   // "" when absent
  std::string relation;                                     // "" when absent
  std::string object;                                       // "" when absent: no recall check
  std::string field;                                        // where it came from, e.g. "splits.fit[3]"
};

struct ConceptDataset {
  std::filesystem::path path;
  std::string concept_name;
  std::vector<std::string> classes;
  std::vector<std::string> concept_relations;
  std::vector<ConceptRecord> fit;
  std::vector<ConceptRecord> probe_train;
  std::vector<ConceptRecord> probe_test;

  int64_t num_classes() const { return static_cast<int64_t>(classes.size()); }
  /// A record asks for the concept itself: its object is a class, or its
  /// relation is one of concept_relations ("X was born in" for a region concept).
  bool asks_for_concept(const ConceptRecord& r) const;

  /// Reads and validates a dataset file: InputError naming the file and the
  /// field (e.g. "splits.fit[3].label") for anything missing, mistyped or out
  /// of range, and for a subject_id shared by two splits.
  static ConceptDataset load(const std::filesystem::path& path);
  /// The same for JSON already in memory; `path` is used in messages.
  static ConceptDataset parse(const nlohmann::json& j, const std::filesystem::path& path);
};

/// The token position of `record` in tm.encode_prompt(record.prompt): `position`
/// if given, else the subject's last token. InputError (naming the record) when
/// it lies outside the prompt or the span's text does not tokenise to a prefix
/// of the prompt's ids.
int64_t record_position(const harness::TextModel& tm, const ConceptRecord& record, const std::filesystem::path& path);

/// Group ids for `records` ([n] int64): records with the same subject_id share
/// an id, numbered through `ids` so that several calls (one per split) agree;
/// a record without a subject_id is a group of its own.
at::Tensor subject_groups(const std::vector<ConceptRecord>& records, std::map<std::string, int64_t>& ids);

}  // namespace editgate::editors
