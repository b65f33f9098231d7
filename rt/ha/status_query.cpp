// status_query.cpp - see status_query.h.
#include "ha/status_query.h"

#include "ha/wire.h"

#include <unistd.h>

namespace checksync::ha {
namespace wire = detail::wire;

std::string query_status(const std::string &target, const std::string &secret, int timeout_ms) {
  std::string error;
  int fd = wire::connect_to(wire::parse_endpoint(target), timeout_ms, &error);
  if (fd < 0)
    throw StatusQueryFailure(2, "cannot connect: " + error);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  wire::Reader rd(fd);
  wire::Frame f;
  auto next = [&](const char *what) {
    std::string err;
    if (rd.next(f, timeout_ms, err) != wire::Reader::Result::Frame)
      throw StatusQueryFailure(2, std::string("no ") + what +
                                      " from serve: " + (err.empty() ? "timeout" : err));
    if (f.type == wire::Type::Error) {
      wire::ErrorMsg e = wire::decode_error(f.payload);
      throw StatusQueryFailure(
          e.code == wire::ErrorCode::Auth ? 4 : 2,
          "serve refused: " + e.message +
              (e.code == wire::ErrorCode::Auth ? " (check CHECKSYNC_SECRET)" : ""));
    }
  };
  next("CHALLENGE");
  if (f.type != wire::Type::Challenge)
    throw StatusQueryFailure(2, std::string("expected CHALLENGE, got ") + wire::type_name(f.type));
  wire::Challenge ch = wire::decode_challenge(f.payload);
  wire::StatusQuery q{wire::random_nonce(), {}};
  q.mac = wire::status_query_mac(secret, ch.nonce, q.nonce);
  if (!wire::send_frame(fd, wire::Type::StatusQuery, wire::encode(q)))
    throw StatusQueryFailure(2, "connection lost");
  next("STATUS");
  if (f.type != wire::Type::Status)
    throw StatusQueryFailure(2, std::string("expected STATUS, got ") + wire::type_name(f.type));
  wire::StatusReply r = wire::decode_status(f.payload);
  if (!wire::mac_equal(r.mac, wire::status_reply_mac(secret, q.nonce, ch.nonce, r.json)))
    throw StatusQueryFailure(4, "the reply does not prove the secret: not our serve, or a forgery");
  return r.json;
}

} // namespace checksync::ha
