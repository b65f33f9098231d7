// wire.cpp - see wire.h and docs/protocol.md.
#include "ha/wire.h"

#include "settings/options.h"

#include "schema/types.h"

#include <msgpack.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace checksync::detail::wire {
namespace {

void put32(char *p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i] = char(v >> (8 * i));
}
void put64(char *p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i)
    p[i] = char(v >> (8 * i));
}
std::uint32_t get32(const char *p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= std::uint32_t(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}
std::uint64_t get64(const char *p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= std::uint64_t(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

// The checksum covers version, type, reserved, length and the payload.
std::uint64_t frame_sum(const char *head, std::string_view a, std::string_view b) {
  XXH3_state_t st;
  XXH3_64bits_reset(&st);
  XXH3_64bits_update(&st, head + 4, 8);
  XXH3_64bits_update(&st, a.data(), a.size());
  XXH3_64bits_update(&st, b.data(), b.size());
  return XXH3_64bits_digest(&st);
}

void make_header(char *head, Type type, std::string_view a, std::string_view b) {
  put32(head, kMagic);
  head[4] = char(kVersion);
  head[5] = char(type);
  head[6] = head[7] = 0;
  put32(head + 8, std::uint32_t(a.size() + b.size()));
  put64(head + 12, frame_sum(head, a, b));
}

[[noreturn]] void malformed(const char *what) {
  throw Error(std::string("malformed ") + what + " message");
}

using Packer = msgpack::packer<msgpack::sbuffer>;
void pack_bin(Packer &pk, const unsigned char *p, std::size_t n) {
  pk.pack_bin(std::uint32_t(n));
  pk.pack_bin_body(reinterpret_cast<const char *>(p), std::uint32_t(n));
}

// An unpacked msgpack array of exactly n elements.
struct Msg {
  const char *what; // the message's name, for errors
  msgpack::object_handle oh;
  const msgpack::object *a = nullptr;
  Msg(const std::string &p, std::size_t n, const char *what_, std::size_t str_limit = 4096)
      : what(what_) {
    try {
      std::size_t off = 0;
      // Control messages are tiny: limits stop a hostile length prefix from
      // making the unpacker allocate gigabytes (found by frame_fuzzer).
      oh = msgpack::unpack(p.data(), p.size(), off, nullptr, nullptr,
                           msgpack::unpack_limit(/*array=*/8, /*map=*/0, /*str=*/str_limit,
                                                 /*bin=*/64, /*ext=*/0, /*depth=*/2));
      if (off != p.size())
        malformed(what);
    } catch (const msgpack::unpack_error &) {
      malformed(what);
    } catch (const std::bad_alloc &) {
      malformed(what);
    }
    const msgpack::object &o = oh.get();
    if (o.type != msgpack::type::ARRAY || o.via.array.size != n)
      malformed(what);
    a = o.via.array.ptr;
  }
  std::uint64_t u64(std::size_t i) const {
    if (a[i].type != msgpack::type::POSITIVE_INTEGER)
      malformed(what);
    return a[i].via.u64;
  }
  std::string str(std::size_t i, std::size_t max = 4096) const {
    if (a[i].type != msgpack::type::STR || a[i].via.str.size > max)
      malformed(what);
    return std::string(a[i].via.str.ptr, a[i].via.str.size);
  }
  std::array<unsigned char, 32> bin32(std::size_t i) const {
    if (a[i].type != msgpack::type::BIN || a[i].via.bin.size != 32)
      malformed(what);
    std::array<unsigned char, 32> out;
    std::memcpy(out.data(), a[i].via.bin.ptr, 32);
    return out;
  }
};

Mac hmac(std::string_view secret, std::string_view msg) {
  Mac out{};
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), secret.data(), int(secret.size()),
            reinterpret_cast<const unsigned char *>(msg.data()), msg.size(), out.data(), &len) ||
      len != out.size())
    throw Error("HMAC-SHA256 failed");
  return out;
}

void append(std::string &s, const Nonce &n) {
  s.append(reinterpret_cast<const char *>(n.data()), n.size());
}
void append64(std::string &s, std::uint64_t v) {
  char b[8];
  put64(b, v);
  s.append(b, 8);
}

} // namespace

const char *type_name(Type t) {
  switch (t) {
  case Type::Challenge: return "CHALLENGE";
  case Type::Auth: return "AUTH";
  case Type::Welcome: return "WELCOME";
  case Type::Checkpoint: return "CHECKPOINT";
  case Type::Ack: return "ACK";
  case Type::Heartbeat: return "HEARTBEAT";
  case Type::NeedFull: return "NEED_FULL";
  case Type::Error: return "ERROR";
  case Type::Chunk: return "CHUNK";
  case Type::StatusQuery:
    return "STATUS_QUERY";
  case Type::Status:
    return "STATUS";
  case Type::Lease:
    return "LEASE";
  }
  return "?";
}

std::uint32_t max_payload() {
  static const std::uint32_t limit = [] {
    unsigned long long v = options::uint("CHECKSYNC_TEST_MAX_FRAME");
    // Room for a chunk head, at least a byte of checkpoint and the seal's tag.
    return v ? std::uint32_t(
                   std::clamp<unsigned long long>(v, kChunkHeadBytes + kTagBytes + 1, kMaxPayload))
             : kMaxPayload;
  }();
  return limit;
}

std::size_t chunk_bytes() {
  return std::min<std::size_t>(kChunkBytes, max_payload() - kChunkHeadBytes - kTagBytes);
}

std::string finish_frame(Type type, std::string frame) {
  make_header(frame.data(), type, std::string_view(frame).substr(kHeaderBytes), {});
  return frame;
}

std::string encode_frame(Type type, std::string_view payload) {
  std::string out(kHeaderBytes, '\0');
  make_header(out.data(), type, payload, {});
  out.append(payload);
  return out;
}

Parse parse_frame(const char *data, std::size_t n, Frame &out, std::size_t &consumed,
                  std::string &error) {
  if (n < kHeaderBytes)
    return Parse::NeedMore;
  if (get32(data) != kMagic) {
    error = "bad frame magic (not a CheckSync peer?)";
    return Parse::Bad;
  }
  if (std::uint8_t(data[4]) != kVersion) {
    error = "unsupported protocol version " + std::to_string(std::uint8_t(data[4]));
    return Parse::Bad;
  }
  auto type = std::uint8_t(data[5]);
  if (type < std::uint8_t(Type::Challenge) || type > std::uint8_t(Type::Lease) || data[6] ||
      data[7]) {
    error = "unknown frame type " + std::to_string(type);
    return Parse::Bad;
  }
  std::uint32_t len = get32(data + 8);
  if (len > max_payload()) {
    error = "frame too large (" + std::to_string(len) + " bytes, the limit is " +
            std::to_string(max_payload()) + ")";
    return Parse::Bad;
  }
  if (n - kHeaderBytes < len)
    return Parse::NeedMore;
  std::string_view payload(data + kHeaderBytes, len);
  if (frame_sum(data, payload, {}) != get64(data + 12)) {
    error = "frame checksum mismatch";
    return Parse::Bad;
  }
  out.type = Type(type);
  out.payload.assign(payload);
  consumed = kHeaderBytes + len;
  return Parse::Ok;
}

std::string encode(const Challenge &m) {
  msgpack::sbuffer b;
  Packer pk(b);
  pk.pack_array(2);
  pk.pack(m.version);
  pack_bin(pk, m.nonce.data(), m.nonce.size());
  return std::string(b.data(), b.size());
}
std::string encode(const Auth &m) {
  msgpack::sbuffer b;
  Packer pk(b);
  pk.pack_array(4);
  pack_bin(pk, m.nonce.data(), m.nonce.size());
  pk.pack(m.generation);
  pk.pack(m.program);
  pack_bin(pk, m.mac.data(), m.mac.size());
  return std::string(b.data(), b.size());
}
std::string encode(const Welcome &m) {
  msgpack::sbuffer b;
  Packer pk(b);
  pk.pack_array(4);
  pk.pack(m.generation);
  pk.pack(m.durable);
  pk.pack(m.chain_id);
  pack_bin(pk, m.mac.data(), m.mac.size());
  return std::string(b.data(), b.size());
}
std::string encode(const StatusQuery &m) {
  msgpack::sbuffer b;
  Packer pk(b);
  pk.pack_array(2);
  pack_bin(pk, m.nonce.data(), m.nonce.size());
  pack_bin(pk, m.mac.data(), m.mac.size());
  return std::string(b.data(), b.size());
}
std::string encode(const StatusReply &m) {
  msgpack::sbuffer b;
  Packer pk(b);
  pk.pack_array(2);
  pk.pack(m.json);
  pack_bin(pk, m.mac.data(), m.mac.size());
  return std::string(b.data(), b.size());
}
std::string encode_ack(std::uint64_t epoch) {
  msgpack::sbuffer b;
  Packer pk(b);
  pk.pack_array(1);
  pk.pack(epoch);
  return std::string(b.data(), b.size());
}
std::string encode(const NeedFull &m) {
  msgpack::sbuffer b;
  Packer pk(b);
  pk.pack_array(2);
  pk.pack(m.durable);
  pk.pack(m.reason);
  return std::string(b.data(), b.size());
}
std::string encode(const ErrorMsg &m) {
  msgpack::sbuffer b;
  Packer pk(b);
  pk.pack_array(3);
  pk.pack(std::uint32_t(m.code));
  pk.pack(m.message);
  pk.pack(m.epoch);
  return std::string(b.data(), b.size());
}
std::string encode_checkpoint_head(const CheckpointHead &h) {
  std::string s(kCheckpointHeadBytes, '\0');
  put64(s.data(), h.epoch);
  put64(s.data() + 8, h.prev_epoch);
  s[16] = h.full ? 1 : 0;
  put64(s.data() + 24, h.bytes);
  put64(s.data() + 32, h.chain_id);
  return s;
}
std::string encode_chunk_head(std::uint64_t offset) {
  std::string s(kChunkHeadBytes, '\0');
  put64(s.data(), offset);
  return s;
}

Challenge decode_challenge(const std::string &p) {
  Msg m(p, 2, "CHALLENGE");
  std::uint64_t v = m.u64(0);
  return {std::uint32_t(v), m.bin32(1)};
}
Auth decode_auth(const std::string &p) {
  Msg m(p, 4, "AUTH");
  return {m.bin32(0), m.u64(1), m.str(2), m.bin32(3)};
}
StatusQuery decode_status_query(const std::string &p) {
  Msg m(p, 2, "STATUS_QUERY");
  return {m.bin32(0), m.bin32(1)};
}
StatusReply decode_status(const std::string &p) {
  Msg m(p, 2, "STATUS", kMaxStatusJson);
  return {m.str(0, kMaxStatusJson), m.bin32(1)};
}
Welcome decode_welcome(const std::string &p) {
  Msg m(p, 4, "WELCOME");
  return {m.u64(0), m.u64(1), m.u64(2), m.bin32(3)};
}
std::uint64_t decode_ack(const std::string &p) {
  Msg m(p, 1, "ACK");
  return m.u64(0);
}
std::string encode_heartbeat(std::uint64_t stamp_us) {
  std::string p(8, '\0');
  put64(p.data(), stamp_us);
  return p;
}
std::uint64_t decode_heartbeat(const std::string &p) {
  if (p.size() != 8)
    malformed("HEARTBEAT");
  return get64(p.data());
}
std::string encode(const Lease &m) {
  msgpack::sbuffer b;
  Packer pk(b);
  pk.pack_array(2);
  pk.pack(m.stamp_us);
  pk.pack(m.takeover_ms);
  return std::string(b.data(), b.size());
}
Lease decode_lease(const std::string &p) {
  Msg m(p, 2, "LEASE");
  return {m.u64(0), m.u64(1)};
}
NeedFull decode_need_full(const std::string &p) {
  Msg m(p, 2, "NEED_FULL");
  return {m.u64(0), m.str(1)};
}
ErrorMsg decode_error(const std::string &p) {
  Msg m(p, 3, "ERROR");
  return {ErrorCode(m.u64(0)), m.str(1), m.u64(2)};
}
CheckpointHead decode_checkpoint(const std::string &p) {
  if (p.size() != kCheckpointHeadBytes || (p[16] != 0 && p[16] != 1))
    malformed("CHECKPOINT");
  for (int i = 17; i < 24; ++i)
    if (p[i])
      malformed("CHECKPOINT");
  CheckpointHead h{get64(p.data()), get64(p.data() + 8), p[16] == 1, get64(p.data() + 24),
                   get64(p.data() + 32)};
  // A checkpoint file is never empty; 2^48 bytes is far beyond any heap.
  if (h.epoch == 0 || (!h.full && h.prev_epoch >= h.epoch) || h.bytes == 0 ||
      h.bytes >= (std::uint64_t(1) << 48))
    malformed("CHECKPOINT");
  return h;
}
std::uint64_t decode_chunk(const std::string &p, std::string_view &data) {
  if (p.size() <= kChunkHeadBytes)
    malformed("CHUNK");
  data = std::string_view(p).substr(kChunkHeadBytes);
  return get64(p.data());
}

Nonce random_nonce() {
  Nonce n;
  if (RAND_bytes(n.data(), int(n.size())) != 1)
    throw Error("no random bytes available for the authentication nonce");
  return n;
}

Mac primary_mac(std::string_view secret, const Nonce &backup_nonce, const Nonce &primary_nonce,
                std::uint64_t generation) {
  std::string m = "checksync primary v1";
  append(m, backup_nonce);
  append(m, primary_nonce);
  append64(m, generation);
  return hmac(secret, m);
}

Mac backup_mac(std::string_view secret, const Nonce &primary_nonce, const Nonce &backup_nonce,
               std::uint64_t generation, std::uint64_t durable, std::uint64_t chain_id) {
  std::string m = "checksync backup v1";
  append(m, primary_nonce);
  append(m, backup_nonce);
  append64(m, generation);
  append64(m, durable);
  append64(m, chain_id);
  return hmac(secret, m);
}

Mac status_query_mac(std::string_view secret, const Nonce &backup_nonce,
                     const Nonce &operator_nonce) {
  std::string m = "checksync status query v1";
  append(m, backup_nonce);
  append(m, operator_nonce);
  return hmac(secret, m);
}

Mac status_reply_mac(std::string_view secret, const Nonce &operator_nonce,
                     const Nonce &backup_nonce, std::string_view json) {
  std::string m = "checksync status reply v1";
  append(m, operator_nonce);
  append(m, backup_nonce);
  m.append(json);
  return hmac(secret, m);
}

bool mac_equal(const Mac &a, const Mac &b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Endpoint parse_endpoint(const std::string &s) {
  std::size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size())
    throw Error("bad address '" + s + "' (expected HOST:PORT)");
  std::string host = s.substr(0, colon), port = s.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  for (char c : port)
    if (c < '0' || c > '9')
      throw Error("bad port in '" + s + "'");
  return {host, port};
}

int connect_to(const Endpoint &e, int timeout_ms, std::string *error) {
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (int rc = ::getaddrinfo(e.host.c_str(), e.port.c_str(), &hints, &res)) {
    *error = std::string("cannot resolve ") + e.host + ": " + ::gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  *error = "no address";
  for (addrinfo *a = res; a; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0)
      continue;
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc < 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, timeout_ms) == 1 ? 0 : -1;
      int soerr = 0;
      socklen_t sl = sizeof soerr;
      if (rc == 0 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr)
        errno = soerr, rc = -1;
      else if (rc < 0)
        errno = ETIMEDOUT;
    }
    if (rc == 0) {
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      break;
    }
    *error = std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  return fd;
}

int listen_on(const Endpoint &e, std::string *bound) {
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  const char *host = e.host.empty() || e.host == "*" ? nullptr : e.host.c_str();
  if (int rc = ::getaddrinfo(host, e.port.c_str(), &hints, &res))
    throw Error("cannot resolve " + e.host + ": " + ::gai_strerror(rc));
  std::string err = "no address";
  int fd = -1;
  for (addrinfo *a = res; a; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0)
      continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0)
      break;
    err = std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  if (fd < 0)
    throw Error("cannot listen on " + e.host + ":" + e.port + ": " + err);
  if (bound)
    if (std::string a = socket_address(fd, false); a != "?")
      *bound = a;
  return fd;
}

bool send_all(int fd, std::string_view a, std::string_view b) {
  iovec iov[2] = {{const_cast<char *>(a.data()), a.size()},
                  {const_cast<char *>(b.data()), b.size()}};
  int n = 2, i = 0;
  while (i < n) {
    msghdr msg{};
    msg.msg_iov = iov + i;
    msg.msg_iovlen = std::size_t(n - i);
    ssize_t w = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      pollfd p{fd, POLLOUT, 0};
      if (errno == EAGAIN && ::poll(&p, 1, -1) >= 0)
        continue;
      return false;
    }
    auto left = std::size_t(w);
    while (i < n && left >= iov[i].iov_len)
      left -= iov[i++].iov_len;
    if (i < n) {
      iov[i].iov_base = static_cast<char *>(iov[i].iov_base) + left;
      iov[i].iov_len -= left;
    }
  }
  return true;
}

bool send_frame(int fd, Type type, std::string_view payload) {
  return send_frame2(fd, type, payload, {});
}

bool send_frame2(int fd, Type type, std::string_view head, std::string_view body) {
  char h[kHeaderBytes];
  make_header(h, type, head, body);
  std::string first(h, kHeaderBytes);
  first.append(head);
  return send_all(fd, first, body);
}

Outgoing::Outgoing(Type type, std::string_view head, std::string_view body,
                   std::shared_ptr<const std::string> keep)
    : body_(body), keep_(std::move(keep)) {
  prefix_.resize(kHeaderBytes);
  make_header(prefix_.data(), type, head, body);
  prefix_.append(head);
}

Outgoing::Result Outgoing::send_some(int fd) {
  while (!done()) {
    iovec iov[2];
    int n = 0;
    if (sent_ < prefix_.size())
      iov[n++] = {prefix_.data() + sent_, prefix_.size() - sent_};
    std::size_t in_body = sent_ > prefix_.size() ? sent_ - prefix_.size() : 0;
    iov[n++] = {const_cast<char *>(body_.data()) + in_body, body_.size() - in_body};
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = std::size_t(n);
    ssize_t w = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return errno == EAGAIN ? Result::Blocked : Result::Failed;
    }
    sent_ += std::size_t(w);
  }
  keep_.reset();
  return Result::Done;
}

Reader::Result Reader::next(Frame &out, int timeout_ms, std::string &error) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    std::size_t used = 0;
    Parse p = parse_frame(buf_.data() + start_, buf_.size() - start_, out, used, error);
    if (p == Parse::Ok) {
      start_ += used;
      if (start_ == buf_.size())
        buf_.clear(), start_ = 0;
      return Result::Frame;
    }
    if (p == Parse::Bad)
      return Result::Bad;
    if (start_ > 0) {
      buf_.erase(0, start_);
      start_ = 0;
    }
    int wait = timeout_ms;
    if (timeout_ms > 0)
      wait = int(std::max<std::int64_t>(
          0, std::chrono::duration_cast<std::chrono::milliseconds>(
                 deadline - std::chrono::steady_clock::now())
                 .count()));
    pollfd pf{fd_, POLLIN, 0};
    int rc = ::poll(&pf, 1, wait);
    if (rc == 0)
      return Result::Timeout;
    if (rc < 0) {
      if (errno == EINTR)
        continue;
      error = std::strerror(errno);
      return Result::Closed;
    }
    char tmp[65536];
    ssize_t r = ::recv(fd_, tmp, sizeof tmp, 0);
    if (r == 0) {
      error = "connection closed by peer";
      return Result::Closed;
    }
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN)
        continue;
      error = std::strerror(errno);
      return Result::Closed;
    }
    buf_.append(tmp, std::size_t(r));
    received_ += std::uint64_t(r);
  }
}

std::string socket_address(int fd, bool peer) {
  sockaddr_storage ss{};
  socklen_t sl = sizeof ss;
  auto *sa = reinterpret_cast<sockaddr *>(&ss);
  char h[NI_MAXHOST], p[NI_MAXSERV];
  if ((peer ? ::getpeername(fd, sa, &sl) : ::getsockname(fd, sa, &sl)) == 0 &&
      ::getnameinfo(sa, sl, h, sizeof h, p, sizeof p, NI_NUMERICHOST | NI_NUMERICSERV) == 0)
    return std::string(h) + ":" + p;
  return "?";
}

} // namespace checksync::detail::wire
