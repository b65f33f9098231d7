// serve.cpp - `checksync-rt serve`: the backup. Authenticates one primary at
// a time (the newest generation wins, older ones are fenced), stores its
// checkpoints durably in DIR (store.h: fsync + atomic rename) and acknowledges
// each epoch only then, compacts in the background, and with --takeover
// resumes the program here when the primary's heartbeats stop.
#include "commands.h"

#include "chain.h"
#include "compactor.h"
#include "format.h"
#include "store.h"
#include "types.h"
#include "wire.h"

#include <atomic>
#include <cstdarg>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <mutex>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace checksync::cli {
namespace {
using namespace checksync::detail;
using Clock = std::chrono::steady_clock;

constexpr int kHandshakeTimeoutMs = 3000;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             Clock::now().time_since_epoch())
      .count();
}

void log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log(const char *fmt, ...) {
  static std::mutex mu;
  std::lock_guard l(mu);
  std::fprintf(stderr, "checksync-rt serve: ");
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
  std::fflush(stderr);
}

std::string peer_name(int fd) {
  sockaddr_storage ss{};
  socklen_t sl = sizeof ss;
  char h[NI_MAXHOST], p[NI_MAXSERV];
  if (::getpeername(fd, reinterpret_cast<sockaddr *>(&ss), &sl) == 0 &&
      ::getnameinfo(reinterpret_cast<sockaddr *>(&ss), sl, h, sizeof h, p, sizeof p,
                    NI_NUMERICHOST | NI_NUMERICSERV) == 0)
    return std::string(h) + ":" + p;
  return "?";
}

// DIR/generation: the newest primary generation, so fencing survives restarts.
std::uint64_t read_generation(const std::string &dir) {
  std::FILE *f = std::fopen((dir + "/generation").c_str(), "r");
  if (!f)
    return 0;
  unsigned long long g = 0;
  if (std::fscanf(f, "%llu", &g) != 1)
    g = 0;
  std::fclose(f);
  return g;
}

void write_generation(const std::string &dir, std::uint64_t g) {
  try {
    write_file_durably(dir, "generation", std::to_string(g) + "\n");
  } catch (const Error &e) {
    throw Error("cannot record generation " + std::to_string(g) + ": " + e.what());
  }
}

class Backup {
public:
  explicit Backup(const ServeOptions &o) : o_(o) {
    store_ = std::make_unique<DirStore>(o.dir);
    compactor_ = std::make_unique<Compactor>(*store_, o.compact_after, o.compact_ratio);
    generation_ = read_generation(o.dir);
    if (!list_checkpoints(o.dir).empty()) {
      // Announce exactly what a resume from here would restore: the same
      // routine, following each delta's link to the epoch before it.
      std::string note;
      try {
        durable_ = load_chain(o.dir, &note)->info.epoch;
      } catch (const Error &e) {
        note = e.what();
      }
      if (!note.empty()) {
        broken_ = true;
        log("%s", note.c_str());
        log("the stored chain is broken after epoch %llu: asking the primary for a full "
            "checkpoint",
            (unsigned long long)durable_);
      }
    }
    log("storing into %s: newest durable epoch %llu, generation %llu", o.dir.c_str(),
        (unsigned long long)durable_, (unsigned long long)generation_);
  }

  void connection(int fd);
  // Takeover: fence every primary and release the directory.
  std::uint64_t take_over();

  std::atomic<std::int64_t> last_seen_ms{0}; // newest frame from the current primary
  std::atomic<bool> seen_primary{false};

private:
  bool handshake(int fd, wire::Reader &rd, std::uint64_t &gen, std::uint64_t &conn,
                 const std::string &peer);
  // Returns false to close the connection.
  bool checkpoint(int fd, const wire::Frame &f, std::uint64_t gen);
  bool current(std::uint64_t gen, std::uint64_t conn) {
    return !taken_over_ && gen == generation_ && conn == active_conn_;
  }

  const ServeOptions &o_;
  std::mutex mu_; // everything below, and store writes
  std::unique_ptr<DirStore> store_;
  std::unique_ptr<Compactor> compactor_;
  std::uint64_t generation_ = 0, durable_ = 0, active_conn_ = 0, next_conn_ = 0;
  bool taken_over_ = false;
  bool broken_ = false; // files beyond durable_ that a resume ignores: only a full may follow
};

bool Backup::handshake(int fd, wire::Reader &rd, std::uint64_t &gen, std::uint64_t &conn,
                       const std::string &peer) {
  wire::Challenge ch{wire::kVersion, wire::random_nonce()};
  if (!wire::send_frame(fd, wire::Type::Challenge, wire::encode(ch)))
    return false;
  wire::Frame f;
  std::string error;
  if (rd.next(f, kHandshakeTimeoutMs, error) != wire::Reader::Result::Frame) {
    log("%s: no authentication: %s", peer.c_str(), error.empty() ? "timeout" : error.c_str());
    return false;
  }
  auto refuse = [&](wire::ErrorCode code, const std::string &msg) {
    wire::send_frame(fd, wire::Type::Error, wire::encode(wire::ErrorMsg{code, msg}));
    return false;
  };
  if (f.type != wire::Type::Auth) {
    log("%s: expected AUTH, got %s", peer.c_str(), wire::type_name(f.type));
    return refuse(wire::ErrorCode::Protocol, "expected AUTH");
  }
  wire::Auth a;
  try {
    a = wire::decode_auth(f.payload);
  } catch (const Error &e) {
    log("%s: %s", peer.c_str(), e.what());
    return refuse(wire::ErrorCode::Protocol, e.what());
  }
  if (!wire::mac_equal(a.mac, wire::primary_mac(o_.secret, ch.nonce, a.nonce, a.generation))) {
    log("%s: refused: authentication failed (wrong secret)", peer.c_str());
    return refuse(wire::ErrorCode::Auth, "authentication failed");
  }
  std::uint64_t durable;
  {
    std::lock_guard l(mu_);
    if (taken_over_)
      return refuse(wire::ErrorCode::Fenced,
                    "this backup took over (generation " + std::to_string(generation_) + ")");
    if (a.generation != 0 && a.generation < generation_) {
      log("%s: refused stale primary %s of generation %llu (current %llu)", peer.c_str(),
          a.program.c_str(), (unsigned long long)a.generation,
          (unsigned long long)generation_);
      return refuse(wire::ErrorCode::Fenced,
                    "generation " + std::to_string(a.generation) + " is stale (current " +
                        std::to_string(generation_) + ")");
    }
    std::uint64_t g = a.generation == 0 ? generation_ + 1 : a.generation;
    if (g != generation_) {
      write_generation(o_.dir, g);
      generation_ = g;
    }
    gen = g;
    conn = active_conn_ = ++next_conn_;
    durable = durable_;
  }
  wire::Welcome w{gen, durable, wire::backup_mac(o_.secret, a.nonce, ch.nonce, gen, durable)};
  if (!wire::send_frame(fd, wire::Type::Welcome, wire::encode(w)))
    return false;
  log("primary %s (%s) connected: generation %llu, backup holds epoch %llu", a.program.c_str(),
      peer.c_str(), (unsigned long long)gen, (unsigned long long)durable);
  last_seen_ms = now_ms();
  seen_primary = true;
  return true;
}

bool Backup::checkpoint(int fd, const wire::Frame &f, std::uint64_t gen) {
  std::string_view body;
  wire::CheckpointHead h;
  try {
    h = wire::decode_checkpoint(f.payload, body);
    check_envelope(body, "epoch " + std::to_string(h.epoch));
  } catch (const Error &e) {
    log("bad CHECKPOINT: %s", e.what());
    wire::send_frame(fd, wire::Type::Error,
                     wire::encode(wire::ErrorMsg{wire::ErrorCode::Protocol, e.what()}));
    return false;
  }
  std::lock_guard l(mu_);
  if (taken_over_ || gen != generation_) {
    wire::send_frame(fd, wire::Type::Error,
                     wire::encode(wire::ErrorMsg{wire::ErrorCode::Fenced,
                                                 "generation " + std::to_string(gen) +
                                                     " was replaced"}));
    return false;
  }
  if (h.epoch <= durable_) // a duplicate (its ack was lost) or older: covered
    return wire::send_frame(fd, wire::Type::Ack, wire::encode_ack(durable_));
  if (!h.full && (broken_ || h.prev_epoch != durable_)) {
    std::string why = broken_ ? "the backup's chain is broken after epoch " +
                                    std::to_string(durable_)
                              : "delta " + std::to_string(h.epoch) + " follows epoch " +
                                    std::to_string(h.prev_epoch) + ", the backup holds " +
                                    std::to_string(durable_);
    if (o_.verbose)
      log("%s: asking for a full checkpoint", why.c_str());
    return wire::send_frame(fd, wire::Type::NeedFull,
                            wire::encode(wire::NeedFull{durable_, why}));
  }
  // Accept only what a resume would: a full decodes completely before it
  // replaces the chain, a delta parses and applies to durable_ by its contents.
  try {
    std::string what = "epoch " + std::to_string(h.epoch);
    auto img = h.full ? decode_image(std::string(body), what)
                      : parse_link(std::string(body), what, durable_);
    if (img->info.epoch != h.epoch || (img->info.kind == "full") != h.full)
      throw Error(what + ": the checkpoint inside is " + img->info.kind + " epoch " +
                  std::to_string(img->info.epoch));
  } catch (const Error &e) {
    log("bad CHECKPOINT: %s", e.what());
    wire::send_frame(fd, wire::Type::Error,
                     wire::encode(wire::ErrorMsg{wire::ErrorCode::Protocol, e.what()}));
    return false;
  }
  try {
    if (h.full)
      store_->start_chain(h.epoch, body);
    else
      store_->write(h.epoch, false, body);
  } catch (const Error &e) {
    log("cannot store epoch %llu: %s (stored epochs are intact)", (unsigned long long)h.epoch,
        e.what());
    return wire::send_frame(
        fd, wire::Type::Error,
        wire::encode(wire::ErrorMsg{wire::ErrorCode::Storage,
                                    "backup cannot store epoch " + std::to_string(h.epoch) +
                                        ": " + e.what()}));
  }
  durable_ = h.epoch;
  if (h.full)
    broken_ = false;
  compactor_->stored(h.full, body.size());
  if (o_.verbose)
    log("epoch %llu stored (%s, %zu bytes)", (unsigned long long)h.epoch,
        h.full ? "full" : "delta", body.size());
  return wire::send_frame(fd, wire::Type::Ack, wire::encode_ack(h.epoch));
}

void Backup::connection(int fd) {
  std::string peer = peer_name(fd);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  wire::Reader rd(fd);
  std::uint64_t gen = 0, conn = 0;
  if (handshake(fd, rd, gen, conn, peer)) {
    for (;;) {
      wire::Frame f;
      std::string error;
      auto r = rd.next(f, 200, error);
      {
        std::lock_guard l(mu_);
        if (!current(gen, conn)) {
          std::string why = taken_over_ ? "the backup took over"
                                        : "a newer connection (generation " +
                                              std::to_string(generation_) + ") replaced it";
          log("%s: generation %llu fenced: %s", peer.c_str(), (unsigned long long)gen,
              why.c_str());
          wire::send_frame(fd, wire::Type::Error,
                           wire::encode(wire::ErrorMsg{wire::ErrorCode::Fenced, why}));
          break;
        }
      }
      if (r == wire::Reader::Result::Timeout)
        continue;
      if (r == wire::Reader::Result::Closed) {
        log("primary %s disconnected: %s", peer.c_str(), error.c_str());
        break;
      }
      if (r == wire::Reader::Result::Bad) {
        log("primary %s sent a bad frame: %s: closing", peer.c_str(), error.c_str());
        wire::send_frame(fd, wire::Type::Error,
                         wire::encode(wire::ErrorMsg{wire::ErrorCode::Protocol, error}));
        break;
      }
      last_seen_ms = now_ms();
      if (f.type == wire::Type::Heartbeat)
        continue;
      if (f.type != wire::Type::Checkpoint) {
        log("primary %s sent an unexpected %s: closing", peer.c_str(), wire::type_name(f.type));
        wire::send_frame(fd, wire::Type::Error,
                         wire::encode(wire::ErrorMsg{wire::ErrorCode::Protocol,
                                                     std::string("unexpected ") +
                                                         wire::type_name(f.type)}));
        break;
      }
      if (!checkpoint(fd, f, gen))
        break;
    }
  }
  ::close(fd);
}

std::uint64_t Backup::take_over() {
  std::lock_guard l(mu_);
  taken_over_ = true;
  generation_ += 1; // a primary of any earlier generation is now stale
  write_generation(o_.dir, generation_);
  compactor_.reset(); // waits for a running merge
  store_.reset();     // releases the directory's lock for the resumed program
  return durable_;
}

} // namespace

int run_serve(const ServeOptions &o) {
  const char *secret_env = std::getenv("CHECKSYNC_SECRET");
  if (!secret_env || !*secret_env) {
    std::fprintf(stderr, "checksync-rt serve: set CHECKSYNC_SECRET (the secret shared with "
                         "the primary)\n");
    return 1;
  }
  if (o.takeover && o.command.empty()) {
    std::fprintf(stderr, "checksync-rt serve: --takeover needs -- PROGRAM ARGS\n");
    return 1;
  }
  auto &opts = *new ServeOptions(o); // outlives the detached connection threads
  opts.secret = secret_env;
  std::signal(SIGPIPE, SIG_IGN);
  int lfd;
  Backup *backup; // never destroyed: connection threads may outlive the loop
  try {
    std::string bound;
    lfd = wire::listen_on(wire::parse_endpoint(o.listen), &bound);
    backup = new Backup(opts);
    log("listening on %s%s", bound.c_str(),
        o.takeover ? (" (takeover after " + std::to_string(o.timeout_ms) + " ms of silence)")
                         .c_str()
                   : "");
  } catch (const Error &e) {
    std::fprintf(stderr, "checksync-rt serve: %s\n", e.what());
    return 2;
  }
  pid_t child = -1;
  for (;;) {
    pollfd p{lfd, POLLIN, 0};
    int rc = ::poll(&p, 1, 20);
    if (rc > 0) {
      int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0)
        std::thread([backup, fd] { backup->connection(fd); }).detach();
    }
    if (child > 0) {
      int status;
      if (::waitpid(child, &status, WNOHANG) == child) {
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        log("resumed program exited with status %d", code);
        return code;
      }
      continue;
    }
    if (!o.takeover || !backup->seen_primary)
      continue;
    std::int64_t silent = now_ms() - backup->last_seen_ms;
    if (silent < o.timeout_ms)
      continue;
    auto t0 = Clock::now();
    std::uint64_t epoch;
    try {
      epoch = backup->take_over();
    } catch (const Error &e) {
      log("takeover failed: %s", e.what());
      return 2;
    }
    log("takeover: no word from the primary for %lld ms; resuming %s from epoch %llu",
        (long long)silent, o.command[0].c_str(), (unsigned long long)epoch);
    // The child only execs `checksync-rt resume` (this same binary): other
    // threads may hold locks at fork time, so nothing else runs in it.
    std::vector<std::string> args = {"checksync-rt", "resume", "--from", o.dir, "--dir", o.dir,
                                     "--"};
    args.insert(args.end(), o.command.begin(), o.command.end());
    std::vector<char *> argv;
    for (auto &a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    ::unsetenv("CHECKSYNC_BACKUP");
    child = ::fork();
    if (child == 0) {
      ::execv("/proc/self/exe", argv.data());
      std::_Exit(127);
    }
    if (child < 0) {
      log("takeover failed: fork: %s", std::strerror(errno));
      return 2;
    }
    auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
    log("failover: program started as pid %d, %lld ms after the primary's last message "
        "(detection %lld ms + takeover %lld ms)",
        int(child), (long long)(silent + spent.count()), (long long)silent,
        (long long)spent.count());
  }
}

} // namespace checksync::cli
