#include "harness/input_error.h"

namespace editgate {
namespace {

std::string format_message(const std::string& path, const std::string& field,
                           const std::string& expected, const std::string& got,
                           const std::string& hint) {
  std::string msg;
  if (!path.empty()) msg += path + ": ";
  if (!field.empty()) msg += field + ": ";
  msg += "expected " + expected;
  if (!got.empty()) msg += ", got " + got;
  if (!hint.empty()) msg += " (" + hint + ")";
  return msg;
}

}  // namespace

InputError::InputError(std::string path, std::string field, std::string expected,
                       std::string got, std::string hint)
    : std::runtime_error(format_message(path, field, expected, got, hint)),
      path_(std::move(path)),
      field_(std::move(field)),
      expected_(std::move(expected)),
      got_(std::move(got)),
      hint_(std::move(hint)) {}

}  // namespace editgate
