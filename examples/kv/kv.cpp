// checksync-kv: an in-memory key-value cache speaking the Redis protocol
// (GET SET[EX|PX|NX|XX] DEL EXISTS INCR EXPIRE TTL DBSIZE PING ECHO FLUSHALL INFO,
// pipelining, one epoll event loop), whose state is [[checksync::persistent]]
// objects. redis-cli and redis-benchmark drive it unmodified.
//
//   checksync-kv [--port 6379] [--bind 127.0.0.1]
//                [--snapshot none|checksync|full|fork] [--checkpoint-ms 100]
//                [--sync] [--dir DIR] [--requirepass PASS]
//                [--proto-max-bulk-len BYTES] [--client-query-buffer-limit BYTES]
//                [--client-output-buffer-limit BYTES]
//
// Exposed to clients it does not trust: every client's input and output
// buffers are bounded (a client that sends more, or does not read its
// replies, is disconnected, as Redis does), --requirepass makes every command
// but AUTH and QUIT answer NOAUTH until the client authenticates, and
// arguments out of range get Redis' errors.
//
// --snapshot=checksync (default) checkpoints between batches of requests every
// --checkpoint-ms; where they go is the runtime's business (CHECKSYNC_DIR, or
// a backup with `checksync-rt run --backup`). --sync holds every reply of a
// batch until the checkpoint covering it is durable (group commit), so a
// client never sees +OK for a write that a failover could lose. full and fork
// are the schemes CheckSync is compared with (snapshot.h), written to --dir
// (default: CHECKSYNC_DIR, else the current directory).
#include "server.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>

[[checksync::root]] kv::Table *kv_table = nullptr;

namespace kv::server {

void Server::info(std::string &out) {
  checksync::checkpoint_stats st = checksync::last_checkpoint_stats();
  const char *mode = o_.mode == Mode::None        ? "none"
                     : o_.mode == Mode::Checksync ? "checksync"
                     : o_.mode == Mode::Full      ? "full"
                                                  : "fork";
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "# Server\r\nredis_version:7.0.0\r\nchecksync_server:checksync-kv\r\n"
                "process_id:%d\r\ntcp_port:%d\r\n# Clients\r\nconnected_clients:%zu\r\n"
                "# Keyspace\r\ndb0:keys=%llu,expires=0,avg_ttl=0\r\n"
                "# Checksync\r\nsnapshot_mode:%s\r\nsync:%d\r\nresumed:%d\r\n"
                "checkpoint_epoch:%llu\r\ncheckpoint_full:%d\r\ncheckpoint_objects:%llu\r\n"
                "checkpoint_bytes:%llu\r\ncheckpoint_payload_bytes:%llu\r\n"
                "checkpoint_pause_us:%llu\r\ncheckpoint_pages_touched:%llu\r\n"
                "backup_acked_epoch:%llu\r\nbackup_queued_bytes:%llu\r\n"
                "backup_connected:%d\r\nsnapshots:%llu\r\n",
                int(::getpid()), o_.port, conns_.size(), (unsigned long long)store_.size(), mode,
                int(o_.sync), int(checksync::resumed()), (unsigned long long)st.epoch, int(st.full),
                (unsigned long long)st.objects, (unsigned long long)st.bytes,
                (unsigned long long)st.payload_bytes, (unsigned long long)st.pause_us,
                (unsigned long long)st.pages_touched, (unsigned long long)st.backup_acked,
                (unsigned long long)st.backup_queued_bytes, int(st.backup_connected),
                (unsigned long long)snapshots_);
  std::string all = buf;
  // The fields Redis users and their tools read (INFO persistence), from
  // CheckSync's checkpoints: a delta still being encoded is "in progress";
  // a checkpoint the backup queue had to drop makes the status err.
  bool cs_mode = o_.mode == Mode::Checksync;
  bool in_progress = cs_mode && st.epoch && !st.encoded;
  const char *status = err_epoch_ && st.backup_acked <= err_epoch_ ? "err" : "ok";
  const char *backup = !cs_mode || (!st.backup_acked && !st.backup_connected) ? "none"
                       : st.backup_connected                                   ? "connected"
                                                                               : "disconnected";
  std::snprintf(buf, sizeof buf,
                "# Persistence\r\nloading:0\r\nrdb_changes_since_last_save:%llu\r\n"
                "rdb_bgsave_in_progress:%d\r\nrdb_last_save_time:%lld\r\n"
                "rdb_last_bgsave_status:%s\r\naof_enabled:0\r\n"
                "checkpoint_in_progress:%d\r\nchanges_since_last_checkpoint:%llu\r\n"
                "last_checkpoint_time:%lld\r\nlast_checkpoint_status:%s\r\n"
                "backup_state:%s\r\n",
                (unsigned long long)unsynced_writes_, int(in_progress),
                (long long)(last_checkpoint_ms_ / 1000), status, int(in_progress),
                (unsigned long long)unsynced_writes_, (long long)(last_checkpoint_ms_ / 1000),
                status, backup);
  std::string persistence = buf;
  std::vector<std::uint32_t> p = pauses_us_;
  std::sort(p.begin(), p.end());
  auto pct = [&](double q) { return p.empty() ? 0u : p[std::min(p.size() - 1, std::size_t(q * p.size()))]; };
  bool cs = o_.mode == Mode::Checksync;
  std::uint64_t paused = 0;
  for (std::uint32_t us : p)
    paused += us;
  std::snprintf(buf, sizeof buf,
                "total_checkpoints:%zu\r\ntotal_checkpoint_bytes:%llu\r\n"
                "total_pages_touched_bytes:%llu\r\ntotal_pause_us:%llu\r\n"
                "pause_us_p50:%u\r\npause_us_p99:%u\r\npause_us_max:%u\r\n",
                p.size(), (unsigned long long)(cs ? st.total_bytes : total_bytes_),
                (unsigned long long)(cs ? st.total_pages_touched * 4096 : 0),
                (unsigned long long)(cs ? st.total_pause_us : paused), pct(0.5), pct(0.99),
                p.empty() ? 0u : p.back());
  all += buf;
  all += persistence;
  bulk(out, all);
}

// Never waits: the delta is still being encoded (bytes come in INFO's totals).
void Server::checkpoint_taken() {
  checksync::checkpoint_stats st = checksync::last_checkpoint_stats();
  last_checkpoint_ms_ = wall_ms();
  if (st.backup_dropped > dropped_seen_) { // INFO says err until a later epoch is acknowledged
    dropped_seen_ = st.backup_dropped;
    err_epoch_ = st.epoch;
  }
  if (pauses_us_.size() < (1u << 20))
    pauses_us_.push_back(std::uint32_t(std::min<std::uint64_t>(st.pause_us, UINT32_MAX)));
}

void Server::on_readable(Conn &c) {
  // At most 1 MiB per wakeup: what is left in the socket wakes epoll again
  // (level-triggered), so one fast client cannot fill memory before its
  // requests are parsed, nor starve the others.
  for (int reads = 0; reads < 16; ++reads) {
    char buf[65536];
    ssize_t n = ::read(c.fd, buf, sizeof buf);
    if (n > 0) {
      c.in.append(buf, std::size_t(n));
      if (std::size_t(n) < sizeof buf)
        break;
      continue;
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      c.close_after = true;
      c.in.clear();
      c.pos = 0;
      return;
    }
    if (errno == EAGAIN)
      break;
  }
  for (;;) {
    kv::resp::Parse p = kv::resp::parse(c.in, c.pos, args_, o_.max_bulk);
    if (p == kv::resp::Parse::NeedMore)
      break;
    if (p == kv::resp::Parse::Bad) {
      error(c.out, "ERR Protocol error");
      c.close_after = true;
      break;
    }
    if (execute(c, args_))
      ++unsynced_writes_;
    if (c.close_after)
      break;
    if (o_.output_limit && c.out.size() - c.out_pos > o_.output_limit) {
      // A client that does not read its replies (Redis:
      // client-output-buffer-limit): drop it rather than grow without bound.
      std::fprintf(stderr, "checksync-kv: closing a client with more than %zu bytes of "
                           "unread replies (--client-output-buffer-limit)\n", o_.output_limit);
      c.out.clear();
      c.out_pos = 0;
      c.close_after = true;
      c.in.clear();
      c.pos = 0;
      return;
    }
  }
  if (c.in.size() - c.pos > o_.query_limit) { // Redis: client-query-buffer-limit
    std::fprintf(stderr, "checksync-kv: closing a client whose unfinished request exceeds "
                         "%zu bytes (--client-query-buffer-limit)\n", o_.query_limit);
    error(c.out, "ERR Protocol error: query buffer limit exceeded");
    c.close_after = true;
    c.in.clear();
    c.pos = 0;
    return;
  }
  if (c.pos == c.in.size()) {
    c.in.clear();
    c.pos = 0;
  } else if (c.pos > 65536) {
    c.in.erase(0, c.pos);
    c.pos = 0;
  }
}

void Server::flush(Conn &c) {
  while (c.out_pos < c.out.size()) {
    ssize_t n = ::write(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos);
    if (n > 0) {
      c.out_pos += std::size_t(n);
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN) {
      if (!c.want_write) {
        epoll_event ev{EPOLLIN | EPOLLOUT, {}};
        ev.data.fd = c.fd;
        ::epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
        c.want_write = true;
      }
      return;
    }
    c.close_after = true;
    c.out.clear();
    c.out_pos = 0;
    return;
  }
  c.out.clear();
  c.out_pos = 0;
  if (c.want_write) {
    epoll_event ev{EPOLLIN, {}};
    ev.data.fd = c.fd;
    ::epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    c.want_write = false;
  }
}

void Server::close_conn(int fd) {
  ::epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
  ::close(fd);
  conns_.erase(fd);
}

// Between batches: the program's consistent point.
void Server::after_batch(bool wrote) {
  auto now = std::chrono::steady_clock::now();
  bool due = o_.checkpoint_ms > 0 && now >= next_snapshot_;
  switch (o_.mode) {
  case Mode::None:
    break;
  case Mode::Checksync:
    if (o_.sync && wrote) { // group commit: this batch's replies wait for it
      std::uint64_t e = checksync::checkpoint();
      checkpoint_taken();
      // Not durable means dropped (queue full, chain restarted: the next
      // checkpoint is full and covers this batch) or acknowledged after the
      // leadership lease ran out (a new leader may not have it): no reply
      // leaves before a checkpoint is durable under a valid lease.
      while (!checksync::wait_durable(e)) {
        std::fprintf(stderr,
                     "checksync-kv: checkpoint %llu is not durable for this server (dropped, "
                     "or acknowledged after its lease ran out); taking another\n",
                     (unsigned long long)e);
        ::usleep(100000); // a full disk would otherwise spin
        e = checksync::checkpoint();
        checkpoint_taken();
      }
      unsynced_writes_ = 0;
      next_snapshot_ = now + std::chrono::milliseconds(o_.checkpoint_ms);
    } else if (due && unsynced_writes_) {
      checksync::checkpoint();
      checkpoint_taken();
      unsynced_writes_ = 0;
      next_snapshot_ = now + std::chrono::milliseconds(o_.checkpoint_ms);
    }
    break;
  case Mode::Full:
    if (due) {
      auto t0 = std::chrono::steady_clock::now();
      std::string image = kv::serialise(store_);
      kv::write_durably(o_.dir + "/kv-full.snap", image);
      total_bytes_ += image.size();
      last_checkpoint_ms_ = wall_ms();
      pauses_us_.push_back(std::uint32_t(std::chrono::duration_cast<std::chrono::microseconds>(
                                             std::chrono::steady_clock::now() - t0)
                                             .count()));
      ++snapshots_;
      next_snapshot_ = now + std::chrono::milliseconds(o_.checkpoint_ms);
    }
    break;
  case Mode::Fork:
    fork_.reap();
    if (due) {
      auto t0 = std::chrono::steady_clock::now();
      if (!fork_.start(store_, o_.dir + "/kv-fork.snap"))
        break; // the previous child is still writing
      pauses_us_.push_back(std::uint32_t(std::chrono::duration_cast<std::chrono::microseconds>(
                                             std::chrono::steady_clock::now() - t0)
                                             .count())); // fork() itself
      ++snapshots_;
      last_checkpoint_ms_ = wall_ms();
      next_snapshot_ = now + std::chrono::milliseconds(o_.checkpoint_ms);
    }
    break;
  }
  if (now >= next_expire_) {
    store_.expire_some(wall_ms(), 64);
    next_expire_ = now + std::chrono::milliseconds(100);
  }
}

int Server::run() {
  std::signal(SIGPIPE, SIG_IGN);
  // With a backup that may take over, requests are answered only under its
  // lease: give the first one (right after the handshake) a moment to arrive.
  for (int i = 0; i < 300 && !checksync::is_leader(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (!checksync::is_leader())
    std::fprintf(stderr, "checksync-kv: no lease from the backup yet: answering TRYAGAIN until "
                         "it confirms this server is the primary\n");
  lfd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(lfd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(std::uint16_t(o_.port));
  if (::inet_pton(AF_INET, o_.bind.c_str(), &addr.sin_addr) != 1) {
    std::fprintf(stderr, "checksync-kv: bad --bind address %s\n", o_.bind.c_str());
    return 1;
  }
  if (::bind(lfd_, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 ||
      ::listen(lfd_, 511) != 0) {
    std::fprintf(stderr, "checksync-kv: cannot listen on %s:%d: %s\n", o_.bind.c_str(), o_.port,
                 std::strerror(errno));
    return 1;
  }
  ep_ = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{EPOLLIN, {}};
  ev.data.fd = lfd_;
  ::epoll_ctl(ep_, EPOLL_CTL_ADD, lfd_, &ev);
  std::printf("checksync-kv: %s on %s:%d, %llu keys, snapshot=%s%s\n",
              checksync::resumed() ? "resumed" : "started", o_.bind.c_str(), o_.port,
              (unsigned long long)store_.size(),
              o_.mode == Mode::None        ? "none"
              : o_.mode == Mode::Checksync ? "checksync"
              : o_.mode == Mode::Full      ? "full"
                                           : "fork",
              o_.sync ? " (sync)" : "");
  std::fflush(stdout);
  epoll_event events[256];
  for (;;) {
    int n = ::epoll_wait(ep_, events, 256, 10);
    if (n < 0 && errno != EINTR) {
      std::perror("checksync-kv: epoll_wait");
      return 1;
    }
    std::uint64_t writes_before = unsynced_writes_;
    std::vector<int> touched;
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == lfd_) {
        for (;;) {
          int c = ::accept4(lfd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0)
            break;
          ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          epoll_event cev{EPOLLIN, {}};
          cev.data.fd = c;
          ::epoll_ctl(ep_, EPOLL_CTL_ADD, c, &cev);
          conns_.emplace(c, std::make_unique<Conn>(Conn{c, {}, {}}));
        }
        continue;
      }
      auto it = conns_.find(fd);
      if (it == conns_.end())
        continue;
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        on_readable(*it->second);
      touched.push_back(fd);
    }
    // With --sync the batch's replies wait for its checkpoint to be durable;
    // otherwise they go out first, so no client waits for a checkpoint.
    bool wrote = unsynced_writes_ > writes_before;
    bool replies_wait = o_.sync && o_.mode == Mode::Checksync;
    if (replies_wait)
      after_batch(wrote);
    for (int fd : touched) {
      auto it = conns_.find(fd);
      if (it == conns_.end())
        continue;
      flush(*it->second);
      if (it->second->close_after && it->second->out.empty())
        close_conn(fd);
    }
    if (!replies_wait)
      after_batch(wrote);
  }
}

} // namespace kv::server

int main(int argc, char **argv) {
  using namespace kv::server;
  checksync::init(); // restores the table when started by `checksync-rt resume`
  Options o;
  if (const char *d = std::getenv("CHECKSYNC_DIR"))
    o.dir = d;
  CLI::App app{"checksync-kv: a Redis-protocol cache whose state survives crashes and "
               "failovers (CheckSync)"};
  app.add_option("--port", o.port, "TCP port")->capture_default_str()->check(CLI::Range(1, 65535));
  app.add_option("--bind", o.bind, "IPv4 address to listen on")->capture_default_str();
  std::string mode = "checksync";
  app.add_option("--snapshot", mode,
                 "checksync: CheckSync checkpoints (CHECKSYNC_DIR or a backup); full, fork: "
                 "the schemes it is compared with, written to --dir; none")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "checksync", "full", "fork"}));
  app.add_option("--checkpoint-ms", o.checkpoint_ms, "Checkpoint interval, ms")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600000));
  app.add_flag("--sync", o.sync,
               "Hold each batch's replies until its checkpoint is durable (group commit)");
  app.add_option("--dir", o.dir, "Where full and fork snapshots go (default: CHECKSYNC_DIR, else .)");
  app.add_option("--requirepass", o.requirepass,
                 "Clients must AUTH with this password first (also: KV_REQUIREPASS)")
      ->envname("KV_REQUIREPASS");
  app.add_option("--proto-max-bulk-len", o.max_bulk, "Longest argument, bytes")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t(1024), std::size_t(1) << 32));
  app.add_option("--client-query-buffer-limit", o.query_limit,
                 "Unparsed input one client may hold, bytes (then it is disconnected)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t(1) << 16, std::size_t(1) << 34));
  app.add_option("--client-output-buffer-limit", o.output_limit,
                 "Unread replies one client may hold, bytes (then it is disconnected; 0: no limit)")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e) == 0 ? 0 : 1;
  }
  o.mode = mode == "none" ? Mode::None : mode == "full" ? Mode::Full
         : mode == "fork" ? Mode::Fork : Mode::Checksync;
  if (o.query_limit < o.max_bulk + 64) {
    std::fprintf(stderr, "checksync-kv: --client-query-buffer-limit must exceed "
                         "--proto-max-bulk-len\n");
    return 1;
  }
  if (o.sync && o.mode != Mode::Checksync) {
    std::fprintf(stderr, "checksync-kv: --sync needs --snapshot=checksync\n");
    return 1;
  }
  if (o.dir.empty())
    o.dir = ".";
  Server s(o);
  return s.run();
}
