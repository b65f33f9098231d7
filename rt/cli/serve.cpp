// serve.cpp - `checksync-rt serve`: the backup. Authenticates one primary at
// a time (the newest generation wins, older ones are fenced), stores its
// checkpoints durably in DIR (store.h: fsync + atomic rename) and acknowledges
// each epoch only then, compacts in the background, and with --takeover
// resumes the program here when the primary falls silent (never with nothing
// durable).
//
// Each connection has two threads: a reader that keeps reading frames (so the
// primary's liveness is seen whatever the disk does) and a writer that
// streams each checkpoint's chunks into a temporary file, fsyncs it, checks
// it as a resume would, puts it in place and answers.
#include "commands.h"

#include "chain.h"
#include "compactor.h"
#include "format.h"
#include "store.h"
#include "types.h"
#include "wire.h"

#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <optional>
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
        auto img = load_chain(o.dir, &note);
        durable_ = img->info.epoch;
        chain_id_ = img->info.chain_id;
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
  // Takeover: fence every primary and release the directory; returns the
  // epoch to resume, or nothing (and changes nothing) if no epoch is durable.
  std::optional<std::uint64_t> take_over();

  std::atomic<std::int64_t> last_seen_ms{0}; // newest sign of life of the current primary
  std::atomic<bool> seen_primary{false};

private:
  class Link;
  bool handshake(int fd, wire::Reader &rd, std::uint64_t &gen, std::uint64_t &conn,
                 const std::string &peer);
  bool current(std::uint64_t gen, std::uint64_t conn) {
    return !taken_over_ && gen == generation_ && conn == active_conn_;
  }

  const ServeOptions &o_;
  std::mutex mu_; // everything below
  std::unique_ptr<DirStore> store_;
  std::unique_ptr<Compactor> compactor_;
  std::uint64_t generation_ = 0, durable_ = 0, active_conn_ = 0, next_conn_ = 0;
  bool taken_over_ = false;
  bool broken_ = false; // files beyond durable_ that a resume ignores: only a full may follow
  std::uint64_t chain_id_ = 0; // ImageInfo::chain_id of the stored chain
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
  std::uint64_t durable, chain_id;
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
      try {
        write_generation(o_.dir, g);
      } catch (const Error &e) { // disk full: refuse this primary, keep serving
        log("%s: refused primary %s: %s", peer.c_str(), a.program.c_str(), e.what());
        return refuse(wire::ErrorCode::Storage, e.what());
      }
      generation_ = g;
    }
    gen = g;
    conn = active_conn_ = ++next_conn_;
    durable = durable_;
    chain_id = chain_id_;
  }
  wire::Welcome w{gen, durable, chain_id,
                  wire::backup_mac(o_.secret, a.nonce, ch.nonce, gen, durable, chain_id)};
  if (!wire::send_frame(fd, wire::Type::Welcome, wire::encode(w)))
    return false;
  log("primary %s (%s) connected: generation %llu, backup holds epoch %llu", a.program.c_str(),
      peer.c_str(), (unsigned long long)gen, (unsigned long long)durable);
  last_seen_ms = now_ms();
  seen_primary = true;
  return true;
}

// One authenticated primary's connection: run() reads frames on the
// connection's thread, a writer thread stores the checkpoints they carry.
class Backup::Link {
public:
  Link(Backup &b, int fd, std::uint64_t gen, std::uint64_t conn, std::string peer)
      : b_(b), fd_(fd), gen_(gen), conn_(conn), peer_(std::move(peer)),
        last_alive_(now_ms()), last_frame_(last_alive_), writer_([this] { write_loop(); }) {}
  void run(wire::Reader &rd);

private:
  // What the reader hands the writer, in arrival order.
  struct Piece {
    enum Kind { Begin, Data, Abandon, End } kind;
    wire::CheckpointHead head{}; // Begin
    std::string data;            // Data: the next bytes of the checkpoint
    bool last = false;           // Data: completes it
  };
  // Pieces queued for the writer: a slow disk stops the reader here, not
  // memory (a checkpoint may be far larger than RAM).
  static constexpr std::uint64_t kQueueBytes = 64u << 20;

  bool push(Piece p);
  void write_loop();
  std::unique_ptr<PendingFile> begin(const wire::CheckpointHead &h);
  void finish(const wire::CheckpointHead &h, std::unique_ptr<PendingFile> &file, std::int64_t t0);
  // Removes the temporary file first: once the primary hears, nothing is left.
  void storage_failed(const wire::CheckpointHead &h, std::unique_ptr<PendingFile> &file,
                      const Error &e);
  void refuse(wire::ErrorCode code, const std::string &msg, std::uint64_t epoch = 0);
  bool send(wire::Type type, const std::string &payload) {
    std::lock_guard l(send_mu_);
    return wire::send_frame(fd_, type, payload);
  }
  void alive() { // a sign of life from the primary
    std::int64_t now = now_ms();
    max_silence_ = std::max(max_silence_, now - last_alive_);
    last_alive_ = now;
    b_.last_seen_ms = now;
  }

  Backup &b_;
  int fd_;
  std::uint64_t gen_, conn_;
  std::string peer_;
  std::int64_t last_alive_, last_frame_, max_silence_ = 0, max_frame_gap_ = 0;
  std::mutex send_mu_;
  std::mutex q_mu_;
  std::condition_variable q_cv_;
  std::deque<Piece> queue_;
  std::uint64_t queued_bytes_ = 0;
  std::atomic<bool> stop_{false}; // fenced or refused: the writer discards the rest
  std::thread writer_;
};

void Backup::Link::refuse(wire::ErrorCode code, const std::string &msg, std::uint64_t epoch) {
  send(wire::Type::Error, wire::encode(wire::ErrorMsg{code, msg, epoch}));
}

bool Backup::Link::push(Piece p) {
  std::unique_lock l(q_mu_);
  while (p.kind == Piece::Data && !queue_.empty() &&
         queued_bytes_ + p.data.size() > kQueueBytes) {
    q_cv_.wait_for(l, std::chrono::milliseconds(50));
    l.unlock();
    // The disk is behind, not the primary: bytes waiting on the socket are a
    // sign of life, and takeover must not mistake our slowness for its death.
    // A primary that closed the connection (or whose connection failed) is not.
    pollfd pf{fd_, POLLIN | POLLRDHUP, 0};
    if (::poll(&pf, 1, 0) == 1 && (pf.revents & POLLIN) &&
        !(pf.revents & (POLLRDHUP | POLLHUP | POLLERR)))
      alive();
    bool go_on;
    {
      std::lock_guard bl(b_.mu_);
      go_on = !stop_ && b_.current(gen_, conn_);
    }
    l.lock();
    if (!go_on)
      return false;
  }
  queued_bytes_ += p.data.size();
  queue_.push_back(std::move(p));
  q_cv_.notify_all();
  return true;
}

void Backup::Link::run(wire::Reader &rd) {
  std::optional<wire::CheckpointHead> rx; // the checkpoint arriving
  std::uint64_t rx_offset = 0, received = rd.received();
  std::string closing; // why the connection ends
  for (;;) {
    wire::Frame f;
    std::string error;
    auto r = rd.next(f, 200, error);
    if (rd.received() != received) {
      received = rd.received();
      alive();
    }
    {
      std::lock_guard l(b_.mu_);
      if (!b_.current(gen_, conn_)) {
        std::string why = b_.taken_over_ ? "the backup took over"
                                         : "a newer connection (generation " +
                                               std::to_string(b_.generation_) + ") replaced it";
        log("%s: generation %llu fenced: %s", peer_.c_str(), (unsigned long long)gen_,
            why.c_str());
        refuse(wire::ErrorCode::Fenced, why);
        stop_ = true;
        break;
      }
    }
    if (stop_) // the writer refused a checkpoint and said so
      break;
    if (r == wire::Reader::Result::Timeout)
      continue;
    if (r == wire::Reader::Result::Closed) {
      closing = error;
      break;
    }
    if (r == wire::Reader::Result::Bad) {
      log("primary %s sent a bad frame: %s: closing", peer_.c_str(), error.c_str());
      refuse(wire::ErrorCode::Protocol, error);
      stop_ = true;
      break;
    }
    std::int64_t now = now_ms();
    max_frame_gap_ = std::max(max_frame_gap_, now - last_frame_);
    last_frame_ = now;
    std::string bad; // a protocol violation
    try {
      if (f.type == wire::Type::Heartbeat) {
        continue;
      } else if (f.type == wire::Type::Checkpoint) {
        wire::CheckpointHead h = wire::decode_checkpoint(f.payload);
        // A head before the last chunk: the primary dropped that checkpoint.
        if (rx)
          push({Piece::Abandon});
        rx = h;
        rx_offset = 0;
        push({Piece::Begin, h});
      } else if (f.type == wire::Type::Chunk) {
        std::string_view data;
        std::uint64_t offset = wire::decode_chunk(f.payload, data);
        if (!rx)
          bad = "CHUNK outside a checkpoint";
        else if (offset != rx_offset || data.size() > rx->bytes - rx_offset)
          bad = "CHUNK at offset " + std::to_string(offset) + " of " +
                std::to_string(data.size()) + " bytes: expected offset " +
                std::to_string(rx_offset) + " of a " + std::to_string(rx->bytes) +
                "-byte checkpoint";
        else {
          rx_offset += data.size();
          bool last = rx_offset == rx->bytes;
          if (last)
            rx.reset();
          push({Piece::Data, {}, std::string(data), last});
        }
      } else {
        bad = std::string("unexpected ") + wire::type_name(f.type);
      }
    } catch (const Error &e) {
      bad = e.what();
    }
    if (!bad.empty()) {
      log("primary %s: %s: closing", peer_.c_str(), bad.c_str());
      refuse(wire::ErrorCode::Protocol, bad);
      stop_ = true;
      break;
    }
  }
  // A checkpoint received whole is still stored (the primary may be dead:
  // it can only help a takeover); one cut off is discarded.
  {
    std::lock_guard l(q_mu_);
    queue_.push_back({Piece::Abandon});
    queue_.push_back({Piece::End});
    q_cv_.notify_all();
  }
  ::shutdown(fd_, SHUT_RDWR); // the primary learns now, not after a long store
  writer_.join();
  if (!closing.empty())
    log("primary %s disconnected: %s (longest silence %lld ms, largest gap between frames "
        "%lld ms)",
        peer_.c_str(), closing.c_str(), (long long)max_silence_, (long long)max_frame_gap_);
}

void Backup::Link::write_loop() {
  std::unique_ptr<PendingFile> file; // the checkpoint being stored, if any
  wire::CheckpointHead h{};
  std::int64_t t0 = 0;
  for (;;) {
    Piece p;
    {
      std::unique_lock l(q_mu_);
      q_cv_.wait(l, [&] { return !queue_.empty(); });
      p = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= p.data.size();
      q_cv_.notify_all();
    }
    if (p.kind == Piece::End)
      return;
    if (stop_ || p.kind == Piece::Abandon) {
      file.reset(); // removes the temporary file
      continue;
    }
    if (p.kind == Piece::Begin) {
      h = p.head;
      t0 = now_ms();
      file = begin(h);
      continue;
    }
    if (!file)
      continue; // a checkpoint not to store (duplicate, refused)
    try {
      file->append(p.data);
    } catch (const Error &e) {
      storage_failed(h, file, e);
      continue;
    }
    if (p.last) {
      finish(h, file, t0);
      file.reset();
    }
  }
}

// Decides what to do with an arriving checkpoint; a file to store it in, or
// null when it is not to be stored (answered here).
std::unique_ptr<PendingFile> Backup::Link::begin(const wire::CheckpointHead &h) {
  std::unique_lock l(b_.mu_);
  if (!b_.current(gen_, conn_))
    return nullptr; // the reader fences it
  bool same_chain = h.chain_id == b_.chain_id_;
  if (h.epoch <= b_.durable_ && same_chain) {
    // A duplicate (its ack was lost) or older, of the chain stored here: the
    // stored state covers it. Ack exactly it: the primary counts acks as
    // cumulative.
    l.unlock();
    send(wire::Type::Ack, wire::encode_ack(h.epoch));
    return nullptr;
  }
  // Another run's numbers (a fresh primary counts from 1), a gap, or a broken
  // chain: only a full above durable_ can follow.
  if (h.full ? h.epoch <= b_.durable_
             : (b_.broken_ || h.prev_epoch != b_.durable_ || !same_chain)) {
    std::uint64_t d = b_.durable_;
    std::string why = b_.broken_ && !h.full
                          ? "the backup's chain is broken after epoch " + std::to_string(d)
                      : !same_chain ? std::string(h.full ? "full" : "delta") + " epoch " +
                                          std::to_string(h.epoch) +
                                          " is of another chain than the backup's epoch " +
                                          std::to_string(d)
                                    : "delta " + std::to_string(h.epoch) + " follows epoch " +
                                          std::to_string(h.prev_epoch) + ", the backup holds " +
                                          std::to_string(d);
    l.unlock();
    if (b_.o_.verbose)
      log("%s: asking for a full checkpoint", why.c_str());
    send(wire::Type::NeedFull, wire::encode(wire::NeedFull{d, why}));
    return nullptr;
  }
  std::unique_ptr<PendingFile> file;
  try {
    file = b_.store_->begin(h.epoch, h.full);
  } catch (const Error &e) {
    l.unlock();
    storage_failed(h, file, e);
  }
  return file;
}

void Backup::Link::storage_failed(const wire::CheckpointHead &h,
                                  std::unique_ptr<PendingFile> &file, const Error &e) {
  file.reset();
  log("cannot store epoch %llu: %s (stored epochs are intact)", (unsigned long long)h.epoch,
      e.what());
  refuse(wire::ErrorCode::Storage,
         "backup cannot store epoch " + std::to_string(h.epoch) + ": " + e.what(), h.epoch);
}

void Backup::Link::finish(const wire::CheckpointHead &h, std::unique_ptr<PendingFile> &file,
                          std::int64_t t0) {
  std::int64_t received = now_ms();
  try {
    file->sync();
  } catch (const Error &e) {
    storage_failed(h, file, e);
    return;
  }
  // Accept only what a resume would: a full decodes completely before it
  // replaces the chain, a delta parses and applies to the epoch it follows by
  // its contents. This reads the file back whole: memory for one checkpoint
  // and its decoded form (the reader keeps reading meanwhile).
  std::uint64_t chain_id;
  {
    std::lock_guard l(b_.mu_);
    chain_id = b_.chain_id_;
  }
  try {
    std::string what = "epoch " + std::to_string(h.epoch);
    std::string bytes = read_whole_file(file->temp_path());
    auto img = h.full ? decode_image(std::move(bytes), what)
                      : parse_link(std::move(bytes), what, h.prev_epoch, chain_id);
    if (img->info.epoch != h.epoch || (img->info.kind == "full") != h.full ||
        img->info.chain_id != h.chain_id)
      throw Error(what + ": the checkpoint inside is " + img->info.kind + " epoch " +
                  std::to_string(img->info.epoch) + " of chain " +
                  std::to_string(img->info.chain_id) + ", its head says " +
                  (h.full ? "full" : "delta") + " of chain " + std::to_string(h.chain_id));
    chain_id = img->info.chain_id;
  } catch (const OtherChain &e) {
    // Same epoch numbers, another run: continuing would mix two states.
    file.reset();
    std::uint64_t d;
    {
      std::lock_guard l(b_.mu_);
      d = b_.durable_;
    }
    log("%s: asking for a full checkpoint", e.what());
    send(wire::Type::NeedFull, wire::encode(wire::NeedFull{d, e.what()}));
    return;
  } catch (const Error &e) {
    file.reset();
    log("bad CHECKPOINT: %s", e.what());
    refuse(wire::ErrorCode::Protocol, e.what(), h.epoch); // the primary drops it
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    return;
  }
  {
    std::lock_guard l(b_.mu_);
    if (!b_.current(gen_, conn_) ||
        (!h.full && (h.prev_epoch != b_.durable_ || h.chain_id != b_.chain_id_)))
      return; // fenced (or taken over) meanwhile: never stored
    try {
      b_.store_->commit(*file, h.full, h.epoch, /*new_chain=*/h.full);
    } catch (const Error &e) {
      storage_failed(h, file, e);
      return;
    }
    b_.durable_ = h.epoch;
    if (h.full) {
      b_.broken_ = false;
      b_.chain_id_ = chain_id;
    }
    b_.compactor_->stored(h.full, h.bytes);
  }
  if (b_.o_.verbose)
    log("epoch %llu stored (%s, %llu bytes; received in %lld ms, fsync'ed and checked in %lld "
        "ms)",
        (unsigned long long)h.epoch, h.full ? "full" : "delta", (unsigned long long)h.bytes,
        (long long)(received - t0), (long long)(now_ms() - received));
  send(wire::Type::Ack, wire::encode_ack(h.epoch));
}

void Backup::connection(int fd) {
  std::string peer = peer_name(fd);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  wire::Reader rd(fd);
  std::uint64_t gen = 0, conn = 0;
  if (handshake(fd, rd, gen, conn, peer))
    Link(*this, fd, gen, conn, peer).run(rd);
  ::close(fd);
}

std::optional<std::uint64_t> Backup::take_over() {
  std::unique_ptr<Compactor> compactor;
  std::unique_ptr<DirStore> store;
  std::uint64_t epoch;
  {
    std::lock_guard l(mu_);
    if (durable_ == 0)
      return std::nullopt;
    taken_over_ = true;
    generation_ += 1; // a primary of any earlier generation is now stale
    write_generation(o_.dir, generation_);
    // Nothing stores once taken_over_ is set (Link checks current()).
    compactor = std::move(compactor_);
    store = std::move(store_);
    epoch = durable_;
  }
  // Outside the mutex, and without finishing a merge that may take minutes.
  compactor->abandon();
  store.reset(); // releases the directory's lock for the resumed program
  return epoch;
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
    std::optional<std::uint64_t> epoch;
    try {
      epoch = backup->take_over();
    } catch (const Error &e) {
      log("takeover failed: %s", e.what());
      return 2;
    }
    if (!epoch) {
      // Starting the program with empty state would lose everything the
      // primary held; wait for a primary (this one, back, or a new one).
      log("no word from the primary for %lld ms, but no epoch is durable here: not taking "
          "over; waiting for a primary",
          (long long)silent);
      backup->seen_primary = false;
      continue;
    }
    log("takeover: no word from the primary for %lld ms; resuming %s from epoch %llu",
        (long long)silent, o.command[0].c_str(), (unsigned long long)*epoch);
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
