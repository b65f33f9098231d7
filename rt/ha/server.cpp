// server.cpp - see server.h.
#include "ha/server.h"

#include "log/log.h"
#include "schema/types.h"

#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <thread>

namespace checksync::ha {
using asio::ip::tcp;
using detail::Error;

namespace {
tcp protocol_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len);
  return ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4();
}
} // namespace

// One connection from accept until it is closed or handed to run_primary.
struct Server::Handshake : std::enable_shared_from_this<Handshake> {
  Server &srv;
  tcp::socket sock;
  asio::steady_timer deadline;
  std::string peer;
  wire::Nonce challenge{};
  std::string out, in;
  std::size_t filled = 0;
  bool finished = false;
  std::list<std::weak_ptr<Handshake>>::iterator slot; // in srv.pending_

  Handshake(Server &s, tcp::socket so)
      : srv(s), sock(std::move(so)), deadline(sock.get_executor()),
        peer(wire::socket_address(sock.native_handle(), true)) {}
  ~Handshake() {
    if (!finished) // every path finishes; this keeps the list right if one did not
      srv.pending_.erase(slot);
  }

  void start() {
    auto self = shared_from_this();
    deadline.expires_after(std::chrono::milliseconds(srv.limits_.handshake_timeout_ms));
    deadline.async_wait([self](const asio::error_code &ec) {
      if (ec || self->finished)
        return;
      LOG_INFO("%s: no authentication within %d ms: closed", self->peer.c_str(),
               self->srv.limits_.handshake_timeout_ms);
      self->finish();
    });
    try {
      challenge = wire::random_nonce();
    } catch (const Error &e) {
      LOG_ERROR("%s", e.what());
      return finish();
    }
    out = wire::encode_frame(wire::Type::Challenge,
                             wire::encode(wire::Challenge{wire::kVersion, challenge}));
    asio::async_write(sock, asio::buffer(out), [self](const asio::error_code &ec, std::size_t) {
      if (ec)
        return self->finish();
      self->read();
    });
  }

  void read() {
    auto self = shared_from_this();
    in.resize(srv.limits_.max_first_frame);
    sock.async_read_some(asio::buffer(in.data() + filled, in.size() - filled),
                         [self](const asio::error_code &ec, std::size_t n) {
                           if (ec || self->finished)
                             return self->finish();
                           self->filled += n;
                           self->parse();
                         });
  }

  void parse() {
    wire::Frame f;
    std::size_t used = 0;
    std::string error;
    switch (wire::parse_frame(in.data(), filled, f, used, error)) {
    case wire::Parse::NeedMore:
      if (filled < in.size())
        return read();
      LOG_WARN("%s: first frame over %zu bytes: closed", peer.c_str(), in.size());
      return finish();
    case wire::Parse::Bad:
      LOG_WARN("%s: no authentication: %s", peer.c_str(), error.c_str());
      return finish();
    case wire::Parse::Ok:
      return answer(f, used);
    }
  }

  void answer(const wire::Frame &f, std::size_t used) {
    auto self = shared_from_this();
    auto admission = std::make_shared<Admission>(srv.backup_.admit(challenge, f, peer));
    out = wire::encode_frame(admission->reply_type, admission->reply);
    asio::async_write(sock, asio::buffer(out),
                      [self, admission, used](const asio::error_code &ec, std::size_t) {
                        if (!ec && admission->primary)
                          self->hand_over(*admission, used);
                        self->finish();
                      });
  }

  // The primary's socket leaves the loop, blocking again, with whatever it
  // sent after its AUTH.
  void hand_over(const Admission &a, std::size_t used) {
    std::string early = in.substr(used, filled - used);
    asio::error_code ec;
    sock.native_non_blocking(false, ec);
    int fd = sock.release(ec);
    if (ec) {
      LOG_ERROR("%s: cannot hand the connection over: %s", peer.c_str(), ec.message().c_str());
      return;
    }
    int flags = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    Backup &b = srv.backup_;
    std::thread([&b, fd, a, peer = peer, early = std::move(early)]() mutable {
      b.run_primary(fd, a, peer, std::move(early));
    }).detach();
  }

  void finish() {
    if (finished)
      return;
    finished = true;
    deadline.cancel();
    asio::error_code ec;
    if (sock.is_open())
      sock.close(ec);
    srv.pending_.erase(slot);
  }
};

Server::Server(asio::io_context &io, Backup &backup, int listen_fd, ServerLimits limits)
    : backup_(backup), acceptor_(io, protocol_of(listen_fd), listen_fd), retry_(io),
      limits_(limits) {
  accept();
}

void Server::accept() {
  acceptor_.async_accept([this](const asio::error_code &ec, tcp::socket sock) {
    if (ec == asio::error::operation_aborted)
      return;
    if (!ec) {
      if (pending_.size() >= limits_.max_handshakes)
        overflowed();
      auto h = std::make_shared<Handshake>(*this, std::move(sock));
      h->slot = pending_.insert(pending_.end(), h);
      h->start();
    } else {
      // Out of descriptors, say: pause instead of spinning on the error.
      LOG_WARN("accept: %s", ec.message().c_str());
      retry_.expires_after(std::chrono::milliseconds(100));
      retry_.async_wait([this](const asio::error_code &e) {
        if (!e)
          accept();
      });
      return;
    }
    accept();
  });
}

// Too many connections have not authenticated yet: the oldest goes,
// reported at most once a second.
void Server::overflowed() {
  if (auto oldest = pending_.front().lock())
    oldest->finish();
  else
    pending_.pop_front();
  ++evicted_;
  std::int64_t now = now_ms();
  if (now - reported_at_ < 1000)
    return;
  LOG_WARN("%zu unauthenticated connections open (the limit): closed the oldest %zu",
           limits_.max_handshakes, evicted_);
  reported_at_ = now;
  evicted_ = 0;
}

} // namespace checksync::ha
