// session.cpp - see session.h.
#include "ha/session.h"

#include "format/format.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>

namespace checksync::detail::wire {
namespace {

// HMAC-SHA256(secret, label || nonce_b || nonce_p || u64 generation): one
// key per direction, bound to this handshake.
std::array<unsigned char, 32> derive(std::string_view secret, const char *label,
                                     const Nonce &backup_nonce, const Nonce &primary_nonce,
                                     std::uint64_t generation) {
  std::string m = label;
  m.append(reinterpret_cast<const char *>(backup_nonce.data()), backup_nonce.size());
  m.append(reinterpret_cast<const char *>(primary_nonce.data()), primary_nonce.size());
  for (int i = 0; i < 8; ++i)
    m.push_back(char(generation >> (8 * i)));
  std::array<unsigned char, 32> key{};
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), secret.data(), int(secret.size()),
            reinterpret_cast<const unsigned char *>(m.data()), m.size(), key.data(), &len) ||
      len != key.size())
    throw Error("HMAC-SHA256 failed");
  return key;
}

// The associated data: the header's magic, version, type, reserved and
// length (the checksum after them covers the ciphertext).
std::array<unsigned char, 12> header_ad(Type type, std::size_t sealed_len) {
  std::array<unsigned char, 12> h{};
  for (int i = 0; i < 4; ++i) {
    h[i] = (unsigned char)(kMagic >> (8 * i));
    h[8 + i] = (unsigned char)(sealed_len >> (8 * i));
  }
  h[4] = kVersion;
  h[5] = (unsigned char)type;
  return h;
}

std::array<unsigned char, 12> iv_of(std::uint64_t seq) {
  std::array<unsigned char, 12> iv{};
  for (int i = 0; i < 8; ++i)
    iv[4 + i] = (unsigned char)(seq >> (8 * i));
  return iv;
}

} // namespace

void Session::Ctx::operator()(EVP_CIPHER_CTX *c) const { EVP_CIPHER_CTX_free(c); }
void Session::Cipher::operator()(EVP_CIPHER *c) const { EVP_CIPHER_free(c); }

Session::Session(Side side, std::string_view secret, const Nonce &backup_nonce,
                 const Nonce &primary_nonce, std::uint64_t generation)
    : cipher_(EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr)),
      send_ctx_(EVP_CIPHER_CTX_new()), recv_ctx_(EVP_CIPHER_CTX_new()) {
  auto p2b = derive(secret, "checksync session v1 primary->backup", backup_nonce, primary_nonce,
                    generation);
  auto b2p = derive(secret, "checksync session v1 backup->primary", backup_nonce, primary_nonce,
                    generation);
  send_key_ = side == Side::Primary ? p2b : b2p;
  recv_key_ = side == Side::Primary ? b2p : p2b;
  if (!cipher_ || !send_ctx_ || !recv_ctx_)
    throw Error("cannot set up the connection's cipher (OpenSSL)");
}

Session::~Session() = default;

std::string Session::seal(Type type, std::string_view head, std::string_view body) {
  const std::size_t n = head.size() + body.size();
  // Encrypted straight into the frame, after room for its header.
  std::string frame(kHeaderBytes + n + kTagBytes, '\0');
  auto *out = reinterpret_cast<unsigned char *>(frame.data()) + kHeaderBytes;
  auto ad = header_ad(type, n + kTagBytes);
  auto iv = iv_of(send_seq_++);
  EVP_CIPHER_CTX *c = send_ctx_.get();
  int len = 0;
  bool ok = EVP_EncryptInit_ex(c, cipher_.get(), nullptr, send_key_.data(), iv.data()) == 1 &&
            EVP_EncryptUpdate(c, nullptr, &len, ad.data(), int(ad.size())) == 1;
  std::size_t at = 0;
  for (std::string_view part : {head, body})
    if (ok && !part.empty()) {
      ok =
          EVP_EncryptUpdate(c, out + at, &len, reinterpret_cast<const unsigned char *>(part.data()),
                            int(part.size())) == 1;
      at += std::size_t(len);
    }
  ok = ok && EVP_EncryptFinal_ex(c, out + at, &len) == 1 &&
       EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, int(kTagBytes), out + n) == 1;
  if (!ok || at != n)
    throw Error("cannot encrypt a frame (OpenSSL)");
  return finish_frame(type, std::move(frame));
}

bool Session::open(Frame &f, std::string &error) {
  if (f.payload.size() < kTagBytes) {
    error = std::string(type_name(f.type)) + " frame too short to be sealed";
    return false;
  }
  const std::size_t n = f.payload.size() - kTagBytes;
  // Decrypted in place (a stream cipher): the plaintext replaces the bytes.
  auto *buf = reinterpret_cast<unsigned char *>(f.payload.data());
  auto ad = header_ad(f.type, f.payload.size());
  auto iv = iv_of(recv_seq_);
  EVP_CIPHER_CTX *c = recv_ctx_.get();
  int len = 0, fin = 0;
  bool ok = EVP_DecryptInit_ex(c, cipher_.get(), nullptr, recv_key_.data(), iv.data()) == 1 &&
            EVP_DecryptUpdate(c, nullptr, &len, ad.data(), int(ad.size())) == 1 &&
            (n == 0 || EVP_DecryptUpdate(c, buf, &len, buf, int(n)) == 1) &&
            EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, int(kTagBytes), buf + n) == 1 &&
            EVP_DecryptFinal_ex(c, buf + (n ? len : 0), &fin) == 1;
  if (!ok) {
    error = std::string(type_name(f.type)) + " frame #" + std::to_string(recv_seq_) +
            " failed authentication (forged, altered, replayed or out of order)";
    return false;
  }
  ++recv_seq_;
  f.payload.resize(n);
  return true;
}

} // namespace checksync::detail::wire
