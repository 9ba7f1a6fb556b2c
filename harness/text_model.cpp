#include "harness/text_model.h"

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include <optional>

#include "harness/codebook_adapter.h"
#include "harness/steering_adapter.h"
#include "harness/gguf_model.h"
#include "harness/input_error.h"
#include "harness/json_file.h"

namespace editgate::harness {
namespace {

struct AdapterFile {
  std::string kind;  // kCodebookAdapterKind | kSteeringAdapterKind
  std::filesystem::path file;
};

// The adapter edit_manifest.json names, or nullopt when the checkpoint has no
// manifest or no adapter. Only this field is read here; the manifest's schema
// belongs to editors/edit_manifest.h.
std::optional<AdapterFile> adapter_file(const std::filesystem::path& dir) {
  const auto path = dir / "edit_manifest.json";
  if (!std::filesystem::exists(path)) return std::nullopt;
  const auto j = read_json_file(path, "a readable edit_manifest.json");
  if (!j.is_object()) throw InputError(path.string(), "", "a JSON object", j.type_name());
  if (!j.contains("adapter") || j["adapter"].is_null()) return std::nullopt;
  const auto& a = j["adapter"];
  if (!a.is_object() || !a.contains("kind") || (a["kind"] != kCodebookAdapterKind && a["kind"] != kSteeringAdapterKind)) {
    throw InputError(path.string(), "adapter.kind",
                     std::string("\"") + kCodebookAdapterKind + "\" or \"" + kSteeringAdapterKind + "\"",
                     a.is_object() && a.contains("kind") ? a["kind"].dump() : "nothing");
  }
  if (!a.contains("file") || !a["file"].is_string() || a["file"].get<std::string>().empty()) {
    throw InputError(path.string(), "adapter.file", "the codebook's file name", a.value("file", nlohmann::json()).dump());
  }
  const auto file = dir / a["file"].get<std::string>();
  if (!std::filesystem::exists(file)) {
    throw InputError(path.string(), "adapter.file", "an existing adapter file", file.string() + " is missing");
  }
  return AdapterFile{a["kind"].get<std::string>(), file};
}

}  // namespace

TextModel TextModel::load(const std::filesystem::path& dir, const LoadOptions& options) {
  TextModel m;
  if (is_gguf_file(dir)) {  // one open: weights, tokenizer and add_bos all from the file's metadata
    const auto ck = GgufCheckpoint::open(dir);
    m.loaded_ = load_gguf_model(ck, options);
    m.tokenizer_ = ck.tokenizer();
    return m;
  }
  m.loaded_ = load_model(dir, options);
  m.tokenizer_ = load_tokenizer(dir);
  if (const auto a = adapter_file(dir)) {
    const auto& config = m.loaded_.model->config();
    if (a->kind == kCodebookAdapterKind) {
      m.install_codebook(read_codebook(a->file, config));
    } else {
      const auto s = read_steering(a->file, config);
      m.install_steering(&s);
    }
  }
  return m;
}

TextModel TextModel::from_memory(std::unique_ptr<Transformer> model, std::unique_ptr<Tokenizer> tokenizer) {
  TORCH_CHECK(model && tokenizer, "TextModel::from_memory: model and tokenizer are required");
  TextModel m;
  m.loaded_.model = std::move(model);
  m.tokenizer_ = std::move(tokenizer);
  return m;
}

TextModel::TextModel(TextModel&&) noexcept = default;
TextModel& TextModel::operator=(TextModel&& other) noexcept {
  adapter_.reset();  // their hooks live in the model about to be replaced
  steering_.reset();
  loaded_ = std::move(other.loaded_);
  tokenizer_ = std::move(other.tokenizer_);
  adapter_ = std::move(other.adapter_);
  steering_ = std::move(other.steering_);
  return *this;
}
TextModel::~TextModel() = default;

const Codebook* TextModel::codebook() const { return adapter_ ? &adapter_->codebook() : nullptr; }
const SteeringVector* TextModel::steering() const { return steering_ ? &steering_->steering() : nullptr; }

void TextModel::install_steering(const SteeringVector* steering) {
  steering_.reset();
  if (steering != nullptr) steering_ = std::make_unique<SteeringAdapter>(*loaded_.model, *steering);
}

void TextModel::install_codebook(Codebook codebook) {
  adapter_.reset();  // its hooks go first
  if (codebook.size() > 0) adapter_ = std::make_unique<CodebookAdapter>(*loaded_.model, std::move(codebook));
}

bool TextModel::adds_bos() const { return !tokenizer_->prompt_specials().before.empty(); }

std::vector<int64_t> TextModel::encode_prompt(std::string_view text) const { return tokenizer_->encode_prompt(text); }

std::vector<int64_t> TextModel::encode_continuation(std::string_view text) const { return tokenizer_->encode(text); }

}  // namespace editgate::harness
