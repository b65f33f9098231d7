// session.h - what protects a primary-backup connection after its handshake
// (docs/protocol.md, "Sealed frames"): every frame either side sends is
// encrypted and authenticated with ChaCha20-Poly1305 (OpenSSL), under a key
// per direction derived from CHECKSYNC_SECRET, both handshake nonces and the
// generation, with the direction's frame counter as the nonce. A frame that
// was forged, altered, replayed, reordered, dropped before a later one, or
// reflected from the other direction does not open: the connection ends.
#ifndef CHECKSYNC_RT_SESSION_H
#define CHECKSYNC_RT_SESSION_H

#include "ha/wire.h"

#include <memory>
#include <string>
#include <string_view>

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;
typedef struct evp_cipher_st EVP_CIPHER;

namespace checksync::detail::wire {

class Session {
public:
  enum class Side { Primary, Backup };
  // Throws Error if OpenSSL cannot set up the cipher.
  Session(Side side, std::string_view secret, const Nonce &backup_nonce, const Nonce &primary_nonce,
          std::uint64_t generation);
  ~Session();
  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;

  // The whole frame (header, ciphertext of head + body, tag). Not thread-safe:
  // frames go out in the order they are sealed.
  std::string seal(Type type, std::string_view head, std::string_view body = {});
  // Replaces f.payload with its plaintext; false (error set) if the frame
  // does not authenticate as the peer's next frame.
  bool open(Frame &f, std::string &error);

private:
  struct Ctx {
    void operator()(EVP_CIPHER_CTX *c) const;
  };
  struct Cipher {
    void operator()(EVP_CIPHER *c) const;
  };
  std::unique_ptr<EVP_CIPHER, Cipher> cipher_; // fetched once, not per frame
  std::array<unsigned char, 32> send_key_{}, recv_key_{};
  std::uint64_t send_seq_ = 0, recv_seq_ = 0;
  std::unique_ptr<EVP_CIPHER_CTX, Ctx> send_ctx_, recv_ctx_;
};

} // namespace checksync::detail::wire

#endif
