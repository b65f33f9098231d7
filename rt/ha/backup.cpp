// backup.cpp - the backup's state across connections: what it holds (the
// epoch a resume from DIR restores), authentication and fencing, takeover.
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
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <fcntl.h>
#include <filesystem>
#include <mutex>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <optional>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <cstdarg>

namespace checksync::ha {
using namespace checksync::detail;
std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}


// DIR/generation: the newest primary generation, so fencing survives restarts.
std::uint64_t read_generation(const std::string &dir, const char *name) {
  std::FILE *f = std::fopen((dir + "/" + name).c_str(), "r");
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

Backup::Backup(BackupOptions o) : o_(std::move(o)) {
  // Connection threads may still seal frames while the process exits: keep
  // OpenSSL's state alive until the end (see Shipper::Shipper).
  OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr);
  store_ = std::make_unique<DirStore>(o_.dir);
  compactor_ = std::make_unique<Compactor>(*store_, o_.compact_after, o_.compact_ratio,
                                           o_.compress_level);
  generation_ = read_generation(o_.dir);
  // The generation that stored what DIR holds; directories from before it
  // was recorded: the newest admitted, an upper bound.
  durable_generation_ = read_generation(o_.dir, "durable-generation");
  if (durable_generation_ == 0)
    durable_generation_ = generation_;
  if (!list_checkpoints(o_.dir).empty()) {
    // Announce exactly what a resume from here would restore: the same
    // routine, following each delta's link to the epoch before it.
    std::string note;
    try {
      auto img = load_chain(o_.dir, &note);
      durable_ = img->info.epoch;
      chain_id_ = img->info.chain_id;
    } catch (const Error &e) {
      note = e.what();
    }
    if (!note.empty()) {
      broken_ = true;
      LOG_WARN("%s", note.c_str());
      LOG_WARN("the stored chain is broken after epoch %llu: asking the primary for a full "
               "checkpoint",
               (unsigned long long)durable_);
    }
  }
  LOG_INFO("storing into %s: newest durable epoch %llu, generation %llu", o_.dir.c_str(),
           (unsigned long long)durable_, (unsigned long long)generation_);
}

namespace {
// The ERROR that closes a connection the backup does not admit.
Admission refuse(wire::ErrorCode code, const std::string &msg) {
  return Admission{wire::Type::Error, wire::encode(wire::ErrorMsg{code, msg}), false, 0, 0};
}
} // namespace

Admission Backup::admit(const wire::Nonce &challenge, const wire::Frame &f,
                        const std::string &peer) {
  if (f.type == wire::Type::StatusQuery)
    return answer_status(challenge, f, peer);
  if (f.type != wire::Type::Auth) {
    LOG_WARN("%s: expected AUTH, got %s", peer.c_str(), wire::type_name(f.type));
    return refuse(wire::ErrorCode::Protocol, "expected AUTH");
  }
  wire::Auth a;
  try {
    a = wire::decode_auth(f.payload);
  } catch (const Error &e) {
    LOG_WARN("%s: %s", peer.c_str(), e.what());
    return refuse(wire::ErrorCode::Protocol, e.what());
  }
  if (!wire::mac_equal(a.mac, wire::primary_mac(o_.secret, challenge, a.nonce, a.generation))) {
    LOG_WARN("%s: refused: authentication failed (wrong secret)", peer.c_str());
    return refuse(wire::ErrorCode::Auth, "authentication failed");
  }
  std::uint64_t gen, conn, durable, chain_id;
  {
    std::lock_guard l(mu_);
    if (taken_over_)
      return refuse(wire::ErrorCode::Fenced,
                    "this backup took over (generation " + std::to_string(generation_) + ")");
    if (o_.coordinated && a.generation == 0)
      return refuse(wire::ErrorCode::Fenced,
                    "this backup follows the leader on etcd: start the primary with "
                    "--coordinator (CHECKSYNC_COORDINATOR)");
    if (o_.coordinated && a.generation < leader_generation) {
      LOG_WARN("%s: refused deposed primary %s of generation %llu (the leader's is %llu)",
               peer.c_str(), a.program.c_str(), (unsigned long long)a.generation,
               (unsigned long long)leader_generation.load());
      return refuse(wire::ErrorCode::Fenced, "generation " + std::to_string(a.generation) +
                                                 " is not the leader's (" +
                                                 std::to_string(leader_generation) + ")");
    }
    if (a.generation != 0 && a.generation < generation_) {
      LOG_WARN("%s: refused stale primary %s of generation %llu (current %llu)", peer.c_str(),
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
        LOG_ERROR("%s: refused primary %s: %s", peer.c_str(), a.program.c_str(), e.what());
        return refuse(wire::ErrorCode::Storage, e.what());
      }
      generation_ = g;
    }
    gen = g;
    conn = active_conn_ = ++next_conn_;
    durable = durable_;
    chain_id = chain_id_;
    primary_program_ = a.program;
    primary_peer_ = peer;
  }
  wire::Welcome w{gen, durable, chain_id,
                  wire::backup_mac(o_.secret, a.nonce, challenge, gen, durable, chain_id)};
  LOG_INFO("primary %s (%s) connected: generation %llu, backup holds epoch %llu",
           a.program.c_str(), peer.c_str(), (unsigned long long)gen,
           (unsigned long long)durable);
  last_seen_ms = now_ms();
  seen_primary = true;
  return Admission{wire::Type::Welcome,
                   wire::encode(w),
                   true,
                   gen,
                   conn,
                   std::make_shared<wire::Session>(wire::Session::Side::Backup, o_.secret,
                                                   challenge, a.nonce, gen)};
}

// Answers an operator's status query (never a primary).
Admission Backup::answer_status(const wire::Nonce &challenge, const wire::Frame &f,
                                const std::string &peer) {
  wire::StatusQuery q;
  try {
    q = wire::decode_status_query(f.payload);
  } catch (const Error &e) {
    LOG_WARN("%s: %s", peer.c_str(), e.what());
    return refuse(wire::ErrorCode::Protocol, e.what());
  }
  if (!wire::mac_equal(q.mac, wire::status_query_mac(o_.secret, challenge, q.nonce))) {
    LOG_WARN("%s: status query refused: authentication failed (wrong secret)", peer.c_str());
    return refuse(wire::ErrorCode::Auth, "authentication failed");
  }
  std::function<std::string()> report;
  {
    std::lock_guard l(mu_);
    report = status_report_;
  }
  if (!report)
    return refuse(wire::ErrorCode::Protocol, "this backup does not report its status");
  wire::StatusReply r{report(), {}};
  if (r.json.size() > wire::kMaxStatusJson)
    return refuse(wire::ErrorCode::Protocol, "status too large");
  r.mac = wire::status_reply_mac(o_.secret, q.nonce, challenge, r.json);
  LOG_DEBUG("%s: answered a status query", peer.c_str());
  return Admission{wire::Type::Status, wire::encode(r), false, 0, 0};
}

void Backup::set_status_report(std::function<std::string()> report) {
  std::lock_guard l(mu_);
  status_report_ = std::move(report);
}

BackupStatus Backup::status() {
  BackupStatus st;
  std::int64_t seen = last_seen_ms;
  std::lock_guard l(mu_);
  st.generation = generation_;
  st.durable_generation = durable_generation_;
  st.durable = durable_;
  st.chain_id = chain_id_;
  st.primary_program = primary_program_;
  st.primary_peer = primary_peer_;
  st.since_primary_ms = seen_primary ? now_ms() - seen : -1;
  st.taken_over = taken_over_;
  st.broken = broken_;
  st.compacting = compactor_ && compactor_->busy();
  st.queued_bytes = queued_bytes;
  return st;
}

std::optional<std::uint64_t> Backup::take_over(std::uint64_t generation) {
  std::unique_ptr<Compactor> compactor;
  std::unique_ptr<DirStore> store;
  std::uint64_t epoch;
  {
    std::lock_guard l(mu_);
    if (durable_ == 0)
      return std::nullopt;
    taken_over_ = true;
    // A primary of any earlier generation is now stale.
    generation_ = std::max(generation_ + 1, generation);
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

} // namespace checksync::ha
