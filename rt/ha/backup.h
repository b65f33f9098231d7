// backup.h - the backup server, a library (`checksync-rt serve` is its
// command line, rt/cli/serve.cpp): one authenticated primary at a time (the
// newest generation wins, older ones are fenced), its checkpoints stored
// durably in DIR and acknowledged only then, background compaction, and the
// takeover hand-over (backup.cpp, link.cpp).
#ifndef CHECKSYNC_HA_BACKUP_H
#define CHECKSYNC_HA_BACKUP_H

#include "ha/session.h"
#include "ha/wire.h"
#include "store/compactor.h"
#include "store/store.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace checksync::ha {

struct BackupOptions {
  std::string dir;    // where checkpoints are stored
  std::string secret; // shared with the primary
  unsigned long long compact_after = 1024;
  double compact_ratio = 1.0;
  int compress_level = 1;
  // --takeover's --timeout, or 0 (never takes over): what each LEASE tells
  // the primary (docs/protocol.md, "Leases").
  std::uint64_t takeover_timeout_ms = 0;
  // Leadership is on etcd (election.h): primaries bring their generation
  // (the revision that made them leader) and one without is refused.
  bool coordinated = false;
};

// What `checksync-rt status` shows (serve writes it to DIR/serve-status.json).
struct BackupStatus {
  std::uint64_t generation = 0, durable = 0, chain_id = 0;
  std::uint64_t durable_generation = 0;      // the primary generation that stored `durable`
  std::string primary_program, primary_peer; // the newest authenticated primary
  std::int64_t since_primary_ms = -1;        // since its last sign of life; -1: none yet
  bool taken_over = false, broken = false, compacting = false;
  std::uint64_t queued_bytes = 0; // received from the primary, not yet written
};

std::int64_t now_ms(); // steady clock
// DIR/generation: the newest primary generation, so fencing survives restarts.
std::uint64_t read_generation(const std::string &dir, const char *name = "generation");
void write_generation(const std::string &dir, std::uint64_t g); // throws Error

using detail::Compactor;
using detail::DirStore;
namespace wire = detail::wire;

// The backup's answer to the first frame of a connection (after its
// CHALLENGE): the reply to send, and whether the peer is now the primary.
struct Admission {
  wire::Type reply_type;
  std::string reply;
  bool primary = false;
  std::uint64_t generation = 0, conn = 0; // primary: for its Link
  std::shared_ptr<wire::Session> session; // primary: seals every later frame
};

class Backup {
public:
  // Takes DIR's lock and reads what it holds; throws detail::Error.
  explicit Backup(BackupOptions o);

  // Decides on a connection's first frame (AUTH or STATUS_QUERY) answering
  // `challenge`: authentication, fencing, the generation. No I/O but the
  // generation file; the caller (server.h) does the socket work.
  Admission admit(const wire::Nonce &challenge, const wire::Frame &f, const std::string &peer);
  // Serves an admitted primary on its blocking socket until it goes or is
  // fenced (its Link's reader and writer threads), then closes fd. `early`:
  // bytes already read after its AUTH.
  void run_primary(int fd, const Admission &a, const std::string &peer, std::string early = {});
  // Takeover: fence every primary and release the directory; returns the
  // epoch to resume, or nothing (and changes nothing) if no epoch is durable.
  // `generation`: the new leader's (etcd), or 0: one above the current.
  std::optional<std::uint64_t> take_over(std::uint64_t generation = 0);
  BackupStatus status();
  // What an authenticated `checksync-rt status HOST:PORT` receives (JSON
  // text, built by the caller from status()); without one it is refused.
  void set_status_report(std::function<std::string()> report);

  std::atomic<std::int64_t> last_seen_ms{0}; // newest sign of life of the current primary
  std::atomic<bool> seen_primary{false};
  std::atomic<std::uint64_t> queued_bytes{0}; // received, not yet written (current primary)
  // Coordinated: the generation of the leader etcd names (election.h); a
  // primary below it is fenced.
  std::atomic<std::uint64_t> leader_generation{0};

private:
  class Link;
  Admission answer_status(const wire::Nonce &challenge, const wire::Frame &f,
                          const std::string &peer);
  // A primary stops being current when etcd names a newer leader, before
  // that one connects (its link is closed within 200 ms, nothing more stored).
  bool current(std::uint64_t gen, std::uint64_t conn) {
    return !taken_over_ && gen == generation_ && conn == active_conn_ &&
           (!o_.coordinated || gen >= leader_generation);
  }

  const BackupOptions o_;
  std::mutex mu_; // everything below
  std::unique_ptr<DirStore> store_;
  std::unique_ptr<Compactor> compactor_;
  std::uint64_t generation_ = 0, durable_ = 0, active_conn_ = 0, next_conn_ = 0;
  // Who stored durable_ (at start: DIR/generation, an upper bound).
  std::uint64_t durable_generation_ = 0;
  bool taken_over_ = false;
  bool broken_ = false; // files beyond durable_ that a resume ignores: only a full may follow
  std::uint64_t chain_id_ = 0; // ImageInfo::chain_id of the stored chain
  std::string primary_program_, primary_peer_;
  std::function<std::string()> status_report_;
};

} // namespace checksync::ha

#endif
