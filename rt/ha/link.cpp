// link.cpp - one authenticated primary's connection to the backup: a reader
// thread that keeps reading frames (so the primary's liveness is seen
// whatever the disk does) and a writer thread that streams each checkpoint's
// chunks into a temporary file, fsyncs it, checks it as a resume would, puts
// it in place and answers.
#include "ha/backup.h"
#include "log/log.h"

#include "store/chain.h"
#include "store/compactor.h"
#include "format/format.h"
#include "store/store.h"
#include "schema/types.h"
#include "ha/wire.h"

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


namespace checksync::ha {
using namespace checksync::detail;

// One authenticated primary's connection: run() reads frames on the
// connection's thread, a writer thread stores the checkpoints they carry.
class Backup::Link {
public:
  Link(Backup &b, int fd, std::uint64_t gen, std::uint64_t conn, std::string peer,
       std::shared_ptr<wire::Session> session)
      : b_(b), fd_(fd), gen_(gen), conn_(conn), peer_(std::move(peer)),
        session_(std::move(session)), last_alive_(now_ms()), last_frame_(last_alive_),
        writer_([this] { write_loop(); }) {}
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
    std::lock_guard l(send_mu_); // frames are sealed in the order they go out
    return wire::send_all(fd_, session_->seal(type, payload));
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
  std::shared_ptr<wire::Session> session_;
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
  b_.queued_bytes = queued_bytes_;
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
        LOG_WARN("%s: generation %llu fenced: %s", peer_.c_str(), (unsigned long long)gen_,
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
    if (r == wire::Reader::Result::Bad || !session_->open(f, error)) {
      LOG_WARN("primary %s sent a bad frame: %s: closing", peer_.c_str(), error.c_str());
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
        // The lease: this backup will not take over before the heartbeat's
        // stamp + its timeout (its silence clock restarted on these bytes).
        std::uint64_t stamp = wire::decode_heartbeat(f.payload);
        send(wire::Type::Lease, wire::encode(wire::Lease{stamp, b_.o_.takeover_timeout_ms}));
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
      LOG_WARN("primary %s: %s: closing", peer_.c_str(), bad.c_str());
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
    LOG_WARN("primary %s disconnected: %s (longest silence %lld ms, largest gap between frames "
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
      b_.queued_bytes = queued_bytes_;
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
    LOG_DEBUG("%s: asking for a full checkpoint", why.c_str());
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
  LOG_ERROR("cannot store epoch %llu: %s (stored epochs are intact)", (unsigned long long)h.epoch,
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
  // replaces the chain; a delta parses, every value matches its field's
  // kind, and it applies to the epoch it follows by its contents (its refs
  // resolve only in the merged chain, checked at resume). Compaction merges
  // what was accepted here without decoding it again. This reads the file
  // back whole: memory for one checkpoint and its decoded form (the reader
  // keeps reading meanwhile).
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
    if (!h.full)
      validate_values(*img, what);
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
    LOG_WARN("%s: asking for a full checkpoint", e.what());
    send(wire::Type::NeedFull, wire::encode(wire::NeedFull{d, e.what()}));
    return;
  } catch (const Error &e) {
    file.reset();
    LOG_WARN("bad CHECKPOINT: %s", e.what());
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
    if (b_.durable_generation_ != gen_) {
      // Before the ack: which generation stored what DIR holds decides
      // elections after a restart too (election.h).
      try {
        write_file_durably(b_.o_.dir, "durable-generation", std::to_string(gen_) + "\n");
      } catch (const Error &e) {
        LOG_ERROR("cannot record the generation of epoch %llu: %s (an election after a restart "
                  "of this serve ranks it by DIR/generation)",
                  (unsigned long long)h.epoch, e.what());
      }
      b_.durable_generation_ = gen_;
    }
    if (h.full) {
      b_.broken_ = false;
      b_.chain_id_ = chain_id;
    }
    b_.compactor_->stored(h.full, h.bytes);
  }
  LOG_DEBUG("epoch %llu stored (%s, %llu bytes; received in %lld ms, fsync'ed and checked in %lld "
            "ms)",
            (unsigned long long)h.epoch, h.full ? "full" : "delta", (unsigned long long)h.bytes,
            (long long)(received - t0), (long long)(now_ms() - received));
  send(wire::Type::Ack, wire::encode_ack(h.epoch));
}

void Backup::run_primary(int fd, const Admission &a, const std::string &peer,
                         std::string early) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  wire::Reader rd(fd, std::move(early));
  Link(*this, fd, a.generation, a.conn, peer, a.session).run(rd);
  ::close(fd);
}

} // namespace checksync::ha
