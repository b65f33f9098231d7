// shipper.cpp - see shipper.h and docs/protocol.md.
#include "ha/shipper.h"

#include "log/log.h"
#include "schema/types.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <chrono>
#include <fcntl.h>
#include <cstdio>
#include <cstdlib>
#include <poll.h>
#include <unistd.h>

namespace checksync::detail {
namespace {
using Clock = std::chrono::steady_clock;
constexpr int kHandshakeTimeoutMs = 3000;
constexpr int kConnectTimeoutMs = 1000;
} // namespace

Shipper::Shipper(ShipperOptions o) : o_(std::move(o)) {
  m_.generation = o_.generation;
  // OpenSSL would otherwise register, at its first use on this thread, an
  // exit handler that frees its state; exit handlers run newest first, so it
  // would run before the runtime's flush_at_exit while this thread still
  // seals frames (a crash at exit, seen in ha_nothing_durable.test).
  OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr);
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0)
    throw Error("cannot create the shipper's wake-up pipe");
  thread_ = std::thread([this] { loop(); });
}

Shipper::~Shipper() { flush(0); }

namespace {
std::int64_t steady_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
} // namespace

bool Shipper::lease_valid() const {
  return steady_us() < lease_until_us_.load(std::memory_order_acquire);
}

[[noreturn]] void Shipper::fatal(const std::string &msg, int code) {
  LOG_ERROR("%s", msg.c_str());
  std::_Exit(code);
}

bool Shipper::submit(std::uint64_t epoch, bool full, std::uint64_t prev, std::uint64_t chain_id,
                     std::shared_ptr<const std::string> bytes) {
  std::lock_guard l(mu_);
  max_issued_ = std::max(max_issued_, epoch);
  if (!full && full_request_) {
    mark_lost(epoch, epoch);
    report_drop(epoch, 1, "it extends a dropped checkpoint (the next full one replaces both)");
    return false;
  }
  if (full && full_request_ && epoch <= *full_request_) {
    // Made before the request was taken: the backup holds an epoch this high
    // from another chain (or it was dropped here), so it could never ack it.
    mark_lost(epoch, epoch);
    report_drop(epoch, 1,
                "a full checkpoint must be above epoch " + std::to_string(*full_request_));
    return false;
  }
  std::uint64_t unsent = queued_bytes_ - sent_bytes_;
  // However large, a checkpoint goes in when nothing else waits to be sent.
  if (unsent_ < queue_.size() && unsent + bytes->size() > o_.max_queue_bytes) {
    if (full) {
      drop_unsent(epoch, /*lost=*/false); // it replaces them: its ack covers them
    } else {
      // Keep memory bounded; what was sent stays (it must arrive whole to be
      // of use), the rest could not apply without this one.
      std::uint64_t n = queue_.size() - unsent_ + 1;
      drop_unsent(epoch, /*lost=*/true);
      full_request_ = std::max<std::uint64_t>({full_request_.value_or(0), max_issued_});
      char why[160];
      std::snprintf(
          why, sizeof why,
          "%.1f MB of checkpoints not yet sent would exceed CHECKSYNC_BACKUP_QUEUE_MB=%llu",
          double(unsent + bytes->size()) / 1e6, (unsigned long long)(o_.max_queue_bytes >> 20));
      report_drop(epoch, n, why);
      cv_.notify_all();
      return false;
    }
  }
  if (full && full_request_ && epoch > *full_request_)
    full_request_.reset(); // this is the full checkpoint that was asked for
  queued_bytes_ += bytes->size();
  queue_.push_back({epoch, prev, full, chain_id, std::move(bytes)});
  cv_.notify_all();
  wake();
  return true;
}

std::optional<std::uint64_t> Shipper::take_full_request() {
  std::lock_guard l(mu_);
  // A full checkpoint made now would wait behind what is on the wire (never
  // abandoned); let that be acknowledged first and drop deltas meanwhile.
  if (unsent_ > 0)
    return std::nullopt;
  // The backup refused a checkpoint: a new full every checkpoint it refuses
  // would be a loop; pause between them.
  if (Clock::now() < full_not_before_)
    return std::nullopt;
  auto r = full_request_;
  full_request_.reset();
  return r;
}

bool Shipper::wait_acked(std::uint64_t epoch) {
  std::unique_lock l(mu_);
  cv_.wait(l, [&] { return m_.acked >= epoch || is_lost(epoch); });
  return !is_lost(epoch);
}

int Shipper::ack_state(std::uint64_t epoch) {
  std::lock_guard l(mu_);
  return m_.acked >= epoch ? 1 : is_lost(epoch) ? -1 : 0;
}

void Shipper::mark_lost(std::uint64_t first, std::uint64_t last) {
  // Caller holds mu_. Merges with the ranges it overlaps or touches.
  if (first > last)
    return;
  auto it = lost_.upper_bound(first);
  if (it != lost_.begin() && std::prev(it)->second + 1 >= first) {
    --it;
    first = it->first;
    last = std::max(last, it->second);
    it = lost_.erase(it);
  }
  while (it != lost_.end() && it->first <= last + 1) {
    last = std::max(last, it->second);
    it = lost_.erase(it);
  }
  lost_[first] = last;
  cv_.notify_all();
  if (o_.on_change)
    o_.on_change();
}

bool Shipper::is_lost(std::uint64_t epoch) const {
  auto it = lost_.upper_bound(epoch);
  return it != lost_.begin() && std::prev(it)->second >= epoch;
}

bool Shipper::flush(int timeout_ms) {
  std::unique_lock l(mu_);
  bool ok = cv_.wait_for(l, std::chrono::milliseconds(timeout_ms), [&] {
    return queue_.empty() && !full_request_;
  });
  stopping_ = true;
  cv_.notify_all();
  l.unlock();
  wake();
  if (thread_.joinable())
    thread_.join();
  return ok;
}

ShipperMetrics Shipper::metrics() {
  std::lock_guard l(mu_);
  ShipperMetrics m = m_;
  m.queued = queue_.size();
  m.queued_bytes = queued_bytes_;
  return m;
}

void Shipper::report_drop(std::uint64_t epoch, std::uint64_t count, const std::string &why) {
  // Caller holds mu_. Loud at the moment it happens, but at most a line a
  // second: a program checkpointing every millisecond must not flood stderr.
  m_.dropped += count;
  unreported_ += count;
  auto now = Clock::now();
  if (now - last_report_ < std::chrono::seconds(1))
    return;
  LOG_WARN("backup %s: dropped %llu checkpoint%s unacknowledged (newest: epoch %llu): %s",
           o_.backup_text.c_str(), (unsigned long long)unreported_, unreported_ == 1 ? "" : "s",
           (unsigned long long)epoch, why.c_str());
  last_report_ = now;
  unreported_ = 0;
}

void Shipper::drop_unsent(std::uint64_t through, bool lost) {
  // Caller holds mu_. Removes the entries not yet sent on this connection.
  for (std::size_t i = unsent_; i < queue_.size(); ++i)
    queued_bytes_ -= queue_[i].bytes->size();
  queue_.erase(queue_.begin() + std::ptrdiff_t(unsent_), queue_.end());
  if (!lost)
    return;
  // Waiters on them get false; what was sent keeps its chance.
  mark_lost((unsent_ ? queue_.back().epoch : m_.acked) + 1, through);
}

void Shipper::request_full(std::uint64_t floor, const std::string &why) {
  // Caller holds mu_. Everything queued is lost: waiters on those epochs get
  // false (the next checkpoint, full, is the one that can become durable).
  full_request_ = std::max<std::uint64_t>({full_request_.value_or(0), floor, max_issued_});
  if (!queue_.empty())
    report_drop(queue_.back().epoch, queue_.size(), why);
  unsent_ = 0;
  sent_bytes_ = 0;
  drop_unsent(max_issued_, /*lost=*/true);
}

void Shipper::restart_chain(std::uint64_t durable, const std::string &why) {
  // Caller holds mu_. A queued full checkpoint newer than what the backup
  // holds starts a new chain there: keep it and what follows it.
  auto full = std::find_if(queue_.begin(), queue_.end(),
                           [&](const Entry &e) { return e.full && e.epoch > durable; });
  if (full == queue_.end()) {
    request_full(durable, why);
    return;
  }
  for (auto it = queue_.begin(); it != full; ++it)
    queued_bytes_ -= it->bytes->size();
  queue_.erase(queue_.begin(), full);
  unsent_ = 0;
  sent_bytes_ = 0;
}

namespace {
// Freeing a multi-GB image unmaps a million pages, which takes about half a
// second: long enough for a takeover backup to hear no heartbeat. So large
// images are freed on a thread of their own, never on the shipper's.
void release(std::vector<std::shared_ptr<const std::string>> done) {
  std::uint64_t bytes = 0;
  for (auto &b : done)
    bytes += b->size();
  if (bytes >= (std::uint64_t(64) << 20))
    std::thread([done = std::move(done)]() mutable { done.clear(); }).detach();
}
} // namespace

void Shipper::acked(std::uint64_t epoch) {
  std::vector<std::shared_ptr<const std::string>> done;
  {
    std::lock_guard l(mu_);
    m_.acked = std::max(m_.acked, epoch);
    while (!queue_.empty() && queue_.front().epoch <= epoch) {
      if (queue_.front().epoch == epoch) {
        acked_chain_ = queue_.front().chain_id;
        if (queue_.front().full)
          refusal_backoff_ = {}; // the backup takes our full checkpoints again
      }
      queued_bytes_ -= queue_.front().bytes->size();
      if (unsent_) {
        --unsent_;
        sent_bytes_ -= queue_.front().bytes->size();
      }
      done.push_back(std::move(queue_.front().bytes));
      queue_.pop_front();
    }
    cv_.notify_all();
    if (o_.on_change)
      o_.on_change();
  }
  release(std::move(done));
}

void Shipper::refused(const wire::ErrorMsg &e) {
  // Caller holds mu_. The backup checked epoch e.epoch as a resume would and
  // refused it (it then closes): drop it and what depends on it, and restart
  // the chain from a queued full after it, or a new one.
  auto full = std::find_if(queue_.begin(), queue_.end(),
                           [&](const Entry &q) { return q.full && q.epoch > e.epoch; });
  mark_lost(e.epoch, full == queue_.end() ? max_issued_ : full->epoch - 1);
  std::string why = "the backup refused epoch " + std::to_string(e.epoch) + ": " + e.message;
  if (!told_refusal_) // loud once; repeats are counted in the drop reports
    LOG_WARN("the backup at %s refused checkpoint epoch %llu as invalid (%s): "
             "dropped; the chain restarts with a full checkpoint",
             o_.backup_text.c_str(), (unsigned long long)e.epoch, e.message.c_str());
  told_refusal_ = true;
  if (full != queue_.end())
    report_drop(e.epoch, std::uint64_t(full - queue_.begin()), why);
  restart_chain(e.epoch, why);
  // Each full made for it might be refused in turn: back off between them.
  refusal_backoff_ = std::clamp(refusal_backoff_ * 2, std::chrono::milliseconds(100),
                                std::chrono::milliseconds(5000));
  full_not_before_ = Clock::now() + refusal_backoff_;
  cv_.notify_all();
}

// After a (re)connection: continue the chain from what the backup holds, or
// ask for a full checkpoint.
void Shipper::reconcile(std::uint64_t durable, std::uint64_t chain_id) {
  std::lock_guard l(mu_);
  unsent_ = 0;
  sent_bytes_ = 0;
  // The same epoch number from another run (a fresh primary numbers from 1)
  // is not ours: only the chain id tells them apart.
  bool ours = durable == m_.acked && chain_id == acked_chain_;
  for (const Entry &e : queue_)
    ours = ours || (e.epoch == durable && e.chain_id == chain_id); // sent, its ack was lost
  std::string why = "the backup holds epoch " + std::to_string(durable) +
                    (ours ? "" : " of another chain");
  if (!ours) {
    restart_chain(durable, why);
    cv_.notify_all();
    return;
  }
  if (durable > m_.acked) {
    m_.acked = durable;
    acked_chain_ = chain_id;
  }
  while (!queue_.empty() && queue_.front().epoch <= durable) {
    queued_bytes_ -= queue_.front().bytes->size();
    queue_.pop_front();
  }
  if (!queue_.empty() && !queue_.front().full && queue_.front().prev != durable)
    restart_chain(durable, why);
  cv_.notify_all();
  if (o_.on_change)
    o_.on_change();
}

int Shipper::connect_and_handshake(std::uint64_t &durable, std::uint64_t &chain_id,
                                   std::unique_ptr<wire::Session> &session) {
  std::string error;
  int fd = wire::connect_to(o_.backup, kConnectTimeoutMs, &error);
  if (fd < 0)
    throw Error("cannot connect: " + error);
  auto fail = [&](const std::string &why) -> int {
    ::close(fd);
    throw Error(why);
  };
  wire::Reader rd(fd);
  wire::Frame f;
  auto read = [&](const char *what) {
    switch (rd.next(f, kHandshakeTimeoutMs, error)) {
    case wire::Reader::Result::Frame:
      return;
    case wire::Reader::Result::Timeout:
      fail(std::string("no ") + what + " from the backup (timeout)");
    default:
      fail("handshake failed: " + error);
    }
  };
  read("CHALLENGE");
  if (f.type == wire::Type::Error)
    fail("backup refused the connection: " + wire::decode_error(f.payload).message);
  if (f.type != wire::Type::Challenge)
    fail("unexpected " + std::string(wire::type_name(f.type)) + " instead of CHALLENGE");
  wire::Challenge ch = wire::decode_challenge(f.payload);
  if (ch.version != wire::kVersion)
    fail("backup speaks protocol version " + std::to_string(ch.version));
  wire::Auth auth;
  auth.nonce = wire::random_nonce();
  {
    std::lock_guard l(mu_);
    auth.generation = m_.generation;
  }
  auth.program = o_.program;
  auth.mac = wire::primary_mac(o_.secret, ch.nonce, auth.nonce, auth.generation);
  if (!wire::send_frame(fd, wire::Type::Auth, wire::encode(auth)))
    fail("handshake failed: cannot send");
  read("WELCOME");
  if (f.type == wire::Type::Error) {
    wire::ErrorMsg e = wire::decode_error(f.payload);
    ::close(fd);
    if (e.code == wire::ErrorCode::Auth)
      fatal("the backup at " + o_.backup_text + " refused authentication (" + e.message +
                "): check CHECKSYNC_SECRET",
            4);
    if (e.code == wire::ErrorCode::Fenced)
      fatal("fenced by the backup at " + o_.backup_text + ": " + e.message +
                "; this primary must stop",
            5);
    throw Error("backup refused the connection: " + e.message);
  }
  if (f.type != wire::Type::Welcome)
    fail("unexpected " + std::string(wire::type_name(f.type)) + " instead of WELCOME");
  wire::Welcome w = wire::decode_welcome(f.payload);
  if (!wire::mac_equal(w.mac, wire::backup_mac(o_.secret, auth.nonce, ch.nonce, w.generation,
                                               w.durable, w.chain_id))) {
    ::close(fd);
    fatal("the peer at " + o_.backup_text +
              " did not prove it knows CHECKSYNC_SECRET: not our backup",
          4);
  }
  {
    std::lock_guard l(mu_);
    m_.generation = w.generation;
  }
  durable = w.durable;
  chain_id = w.chain_id;
  session = std::make_unique<wire::Session>(wire::Session::Side::Primary, o_.secret, ch.nonce,
                                            auth.nonce, w.generation);
  return fd;
}

void Shipper::loop() {
  int backoff_ms = 50;
  bool warned = false;
  for (;;) {
    {
      std::lock_guard l(mu_);
      if (stopping_)
        return;
    }
    int fd = -1;
    std::unique_ptr<wire::Session> session;
    try {
      std::uint64_t durable = 0, chain_id = 0;
      fd = connect_and_handshake(durable, chain_id, session);
      reconcile(durable, chain_id);
      if (warned)
        LOG_INFO("reconnected to the backup at %s (generation %llu)", o_.backup_text.c_str(),
                 (unsigned long long)metrics().generation);
      warned = false;
      backoff_ms = 50;
    } catch (const Error &e) {
      if (!warned)
        LOG_WARN("backup %s unavailable: %s (retrying)", o_.backup_text.c_str(), e.what());
      warned = true;
      std::unique_lock l(mu_);
      cv_.wait_for(l, std::chrono::milliseconds(backoff_ms), [&] { return stopping_; });
      backoff_ms = std::min(backoff_ms * 2, 1000);
      continue;
    }
    {
      std::lock_guard l(mu_);
      m_.connected = true;
      ++m_.reconnects;
    }
    bool more = serve_connection(fd, *session);
    ::close(fd);
    {
      std::lock_guard l(mu_);
      m_.connected = false;
    }
    if (!more)
      return;
  }
}

void Shipper::wake() {
  char c = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_[1], &c, 1); // full pipe: already awake
}

// The next frame to send on this connection into `out`: a heartbeat when
// due, else the next chunk of the checkpoint going out (`tx`), else the head
// of the next unsent checkpoint; nothing when there is nothing to send.
// False once the shipper stops.
bool Shipper::next_frame(Plain &out, std::optional<Entry> &tx, std::uint64_t &tx_offset,
                         bool heartbeat_due) {
  std::lock_guard l(mu_);
  if (stopping_)
    return false;
  // Dropped while going out (acknowledged as a duplicate, refused, replaced):
  // stop; the next head tells the backup to discard what it received.
  if (tx && !(unsent_ > 0 && queue_[unsent_ - 1].epoch == tx->epoch))
    tx.reset();
  if (tx && tx_offset == tx->bytes->size())
    tx.reset();
  if (heartbeat_due) {
    out = {true,
           wire::Type::Heartbeat,
           wire::encode_heartbeat(std::uint64_t(steady_us())),
           {},
           nullptr};
    return true;
  }
  if (!tx && unsent_ < queue_.size()) {
    tx = queue_[unsent_++];
    sent_bytes_ += tx->bytes->size();
    tx_offset = 0;
    out = {true,
           wire::Type::Checkpoint,
           wire::encode_checkpoint_head(
               {tx->epoch, tx->prev, tx->full, tx->bytes->size(), tx->chain_id}),
           {},
           nullptr};
    return true;
  }
  if (tx) {
    std::size_t n = std::min<std::size_t>(wire::chunk_bytes(), tx->bytes->size() - tx_offset);
    out = {true, wire::Type::Chunk, wire::encode_chunk_head(tx_offset),
           std::string_view(*tx->bytes).substr(tx_offset, n), tx->bytes};
    tx_offset += n;
  }
  return true;
}

// Handles what the backup said, without waiting. False: the connection is lost.
bool Shipper::read_backup(wire::Reader &rd, wire::Session &session) {
  for (;;) {
    wire::Frame f;
    std::string error;
    auto r = rd.next(f, 0, error);
    if (r == wire::Reader::Result::Timeout)
      return true;
    if (r != wire::Reader::Result::Frame) {
      LOG_WARN("connection to the backup lost: %s (reconnecting)", error.c_str());
      return false;
    }
    // Nothing unsealed counts: an acknowledgement an on-path attacker forged
    // or altered never makes an epoch durable.
    if (!session.open(f, error)) {
      LOG_WARN("from the backup: %s (reconnecting)", error.c_str());
      return false;
    }
    try {
      switch (f.type) {
      case wire::Type::Ack: {
        std::uint64_t epoch = wire::decode_ack(f.payload);
        LOG_DEBUG("the backup acknowledged epoch %llu", (unsigned long long)epoch);
        acked(epoch);
        break;
      }
      case wire::Type::Lease: {
        wire::Lease l = wire::decode_lease(f.payload);
        if (std::int64_t(l.stamp_us) > steady_us()) // not a heartbeat this process sent
          throw Error("LEASE for a heartbeat from the future");
        std::int64_t until = l.takeover_ms == 0 ? INT64_MAX
                                                : std::int64_t(l.stamp_us) +
                                                      std::int64_t(l.takeover_ms) * 1000 * 4 / 5;
        std::int64_t prev = lease_until_us_.load(std::memory_order_relaxed);
        while (until > prev &&
               !lease_until_us_.compare_exchange_weak(prev, until, std::memory_order_release)) {
        }
        break;
      }
      case wire::Type::NeedFull: {
        wire::NeedFull n = wire::decode_need_full(f.payload);
        std::lock_guard l(mu_);
        // Entries already sent after the refused delta are refused too;
        // resend from a queued full if there is one.
        restart_chain(n.durable, "the backup needs a full checkpoint: " + n.reason);
        cv_.notify_all();
        break;
      }
      case wire::Type::Error: {
        wire::ErrorMsg e = wire::decode_error(f.payload);
        if (e.code == wire::ErrorCode::Fenced)
          fatal("fenced by the backup at " + o_.backup_text + ": " + e.message +
                    "; this primary must stop",
                5);
        if (e.code == wire::ErrorCode::Protocol && e.epoch) {
          std::lock_guard l(mu_);
          refused(e); // resending it would be refused again, forever
          return false;
        }
        LOG_WARN("the backup reports: %s", e.message.c_str());
        if (e.code == wire::ErrorCode::Storage) {
          std::lock_guard l(mu_);
          request_full(0, "the backup could not store one"); // the chain there has a hole
          break;
        }
        return false;
      }
      default:
        LOG_WARN("unexpected %s from the backup (reconnecting)", wire::type_name(f.type));
        return false;
      }
    } catch (const Error &e) {
      LOG_WARN("from the backup: %s (reconnecting)", e.what());
      return false;
    }
  }
}

// Sends and receives on one connection until it fails (true: reconnect) or
// the shipper stops (false). The socket is non-blocking: one frame at a time
// goes out as fast as the backup reads, acknowledgements are read meanwhile,
// and the thread sleeps in poll() on the socket and the wake pipe.
bool Shipper::serve_connection(int fd, wire::Session &session) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  wire::Reader rd(fd);
  wire::Outgoing out;
  std::optional<Entry> tx;
  std::uint64_t tx_offset = 0;
  const auto heartbeat = std::chrono::milliseconds(o_.heartbeat_ms);
  // A heartbeat every `heartbeat`, busy or not: each one the backup echoes
  // renews the lease (is_leader()). The first goes out at once.
  auto last_heartbeat = Clock::now() - heartbeat;
  for (;;) {
    if (!read_backup(rd, session))
      return true;
    if (out.done()) {
      Plain next;
      bool due = Clock::now() - last_heartbeat >= heartbeat;
      if (!next_frame(next, tx, tx_offset, due))
        return false;
      if (due)
        last_heartbeat = Clock::now();
      if (next.any) // sealed outside the lock: encryption never delays checkpoint()
        out = wire::Outgoing(session.seal(next.type, next.head, next.body));
    }
    bool idle = out.done();
    if (!idle) {
      auto r = out.send_some(fd);
      if (r == wire::Outgoing::Result::Failed) {
        LOG_WARN("lost the connection to the backup (reconnecting)");
        return true;
      }
      if (r == wire::Outgoing::Result::Done)
        continue;
    }
    // Idle until the next heartbeat, or blocked until the backup reads.
    auto since =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - last_heartbeat);
    int timeout = idle ? int(std::max<std::int64_t>(0, (heartbeat - since).count())) : 1000;
    pollfd p[2] = {{fd, short(POLLIN | (idle ? 0 : POLLOUT)), 0}, {wake_[0], POLLIN, 0}};
    if (::poll(p, 2, timeout) < 0)
      continue; // EINTR
    if (p[1].revents) {
      char buf[64];
      while (::read(wake_[0], buf, sizeof buf) > 0) {
      }
    }
  }
}

} // namespace checksync::detail
