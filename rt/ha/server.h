// server.h - the backup's connections on one asio event loop. Every
// connection starts unauthenticated: the handshake (CHALLENGE, then AUTH or
// STATUS_QUERY, then the answer) runs on the loop without a thread, bounded
// in number and in bytes, and with a deadline, so a peer without the secret
// costs a socket and a few KiB, never a thread. An admitted primary is handed
// to Backup::run_primary on threads of its own (its socket blocks on the
// disk's pace, and only a peer that proved the secret gets there).
// docs/event-loop.md says why asio and why only here.
#ifndef CHECKSYNC_HA_SERVER_H
#define CHECKSYNC_HA_SERVER_H

#include "ha/backup.h"

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <cstddef>
#include <list>
#include <memory>

namespace checksync::ha {

struct ServerLimits {
  // Unauthenticated connections at once; a new one beyond closes the oldest,
  // so a flood of silent peers cannot keep a primary (done in one round
  // trip) from getting in.
  std::size_t max_handshakes = 64;
  int handshake_timeout_ms = 3000; // to send the first frame and take the answer
  std::size_t max_first_frame = 16 * 1024; // AUTH and STATUS_QUERY are far smaller
};

class Server {
public:
  // Accepts on `listen_fd` (from wire::listen_on) once io runs.
  Server(asio::io_context &io, Backup &backup, int listen_fd, ServerLimits limits = {});
  std::size_t handshakes() const { return pending_.size(); } // on the loop's thread

private:
  struct Handshake;
  void accept();
  void overflowed();

  Backup &backup_;
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer retry_; // after an accept error (e.g. out of descriptors)
  const ServerLimits limits_;
  std::list<std::weak_ptr<Handshake>> pending_; // oldest first
  std::size_t evicted_ = 0;                      // since the last report
  std::int64_t reported_at_ = 0;
};

} // namespace checksync::ha

#endif
