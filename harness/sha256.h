#pragma once
// SHA-256 for fingerprints: checkpoint weights (WeightStore::sha256), corpora,
// request files. This unit owns only the digest (OpenSSL EVP behind a small
// streaming class); what bytes go into a fingerprint is the caller's contract.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX; kept out of this header

namespace editgate::harness {

// Streaming SHA-256. Feed bytes with update(), then call hex_digest() once;
// update() or hex_digest() after that is a programming error (TORCH_CHECK).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view bytes);
  void update(const void* data, size_t size);
  // 64 lowercase hex characters.
  std::string hex_digest();

 private:
  struct CtxDeleter {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_md_ctx_st, CtxDeleter> ctx_;  // null once finalised
};

// One-shot SHA-256 of `bytes` as 64 lowercase hex characters.
std::string sha256_hex(std::string_view bytes);

}  // namespace editgate::harness
