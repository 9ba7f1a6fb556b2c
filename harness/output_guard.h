#pragma once
// Output guard: the one rule every writing command applies before it writes,
// so that editgate never deletes or replaces what it did not write. It owns
// the rule (no output equal to, inside or around an input; no existing output
// that is not editgate's of the same kind; an existing one of the same kind
// only with --force) and the marker file by which editgate recognises its own
// output directories. Writing the output itself (temp + rename) stays with
// atomic_file.h and the writers, which put the marker into what they write.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace editgate::harness {

// Marker file in every output directory editgate writes:
// {"producer": "editgate", "kind": "<kind>"}.
inline constexpr const char* kOutputMarkerFile = ".editgate-output";

// Kinds of output (a directory each, except kErasedTensorsOutput, one
// .safetensors file recognised by its "__metadata__" format).
inline constexpr const char* kCheckpointOutput = "checkpoint";        // edit, steer
inline constexpr const char* kReportOutput = "report";                // gate --report-dir
inline constexpr const char* kEraserOutput = "eraser";                // erase-model
inline constexpr const char* kMendEditorOutput = "mend-editor";       // mend train
inline constexpr const char* kFixtureOutput = "fixture";              // fixture build
inline constexpr const char* kDemoOutput = "demo";                    // demo --report-dir
inline constexpr const char* kErasedTensorsOutput = "editgate.erase";  // erase --out FILE

struct OutputRequest {
  std::filesystem::path path;  // where the command will write
  std::string flag;            // the flag that named it ("--out"), for messages
  std::string kind;            // one of the k*Output kinds above
  bool force = false;          // --force: replace an existing editgate output of this kind
};

// Throws InputError (exit 2, one line naming the path and the way out) when
// `out.path` equals, contains or lies inside one of `inputs` (empty entries are
// skipped), or exists and is not an empty directory (or, for a file kind, is
// not editgate's output of that kind), unless it is editgate's output of the
// same kind and `out.force` is set. Called before any work, so a refused run
// costs nothing.
void check_output(const OutputRequest& out, const std::vector<std::filesystem::path>& inputs);

// The marker's bytes for `kind`, for writers that pass files as name -> bytes.
std::string output_marker(std::string_view kind);

// Writes the marker for `kind` into `dir` (a directory being filled before
// its atomic rename).
void write_output_marker(const std::filesystem::path& dir, std::string_view kind);

// The kind recorded in `dir`'s marker, or "" when there is none (or it does
// not parse, or another program wrote it).
std::string output_kind(const std::filesystem::path& dir);

}  // namespace editgate::harness
