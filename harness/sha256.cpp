#include "harness/sha256.h"

#include <c10/util/Exception.h>
#include <openssl/evp.h>

namespace editgate::harness {

void Sha256::CtxDeleter::operator()(evp_md_ctx_st* ctx) const { EVP_MD_CTX_free(ctx); }

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  TORCH_CHECK(ctx_ != nullptr, "Sha256: EVP_MD_CTX_new failed");
  TORCH_CHECK(EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1,
              "Sha256: EVP_DigestInit_ex failed");
}

Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(const void* data, size_t size) {
  TORCH_CHECK(ctx_ != nullptr, "Sha256::update called after hex_digest");
  if (size == 0) return;
  TORCH_CHECK(EVP_DigestUpdate(ctx_.get(), data, size) == 1, "Sha256: EVP_DigestUpdate failed");
}

void Sha256::update(std::string_view bytes) { update(bytes.data(), bytes.size()); }

std::string Sha256::hex_digest() {
  TORCH_CHECK(ctx_ != nullptr, "Sha256::hex_digest called twice");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  TORCH_CHECK(EVP_DigestFinal_ex(ctx_.get(), digest, &length) == 1,
              "Sha256: EVP_DigestFinal_ex failed");
  ctx_.reset();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xF]);
  }
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  Sha256 hasher;
  hasher.update(bytes);
  return hasher.hex_digest();
}

}  // namespace editgate::harness
