// leadership.h - who leads a service, on etcd (docs/protocol.md,
// "Leadership on etcd"). The leader holds the key /checksync/SERVICE/leader
// and renews it by a compare-and-put on its own last write every lease/4.
// A renewal that succeeded makes it the leader until the renewal was *sent*
// plus the lease (valid()). A contender (a backup, election.h) takes the key
// only by a compare-and-put on the mod_revision it watched stay unchanged for
// longer than the lease plus a margin, so by then the old leader's own view
// had expired, whatever the network did; the old leader's next renewal fails
// its comparison and it stops for good. The revision of the winning write is
// the leader's generation: it fences older primaries at the backups.
//
// etcd's own leases count whole seconds and are expired by etcd every 500 ms;
// leadership by renewal keeps sub-second leases exact instead.
#ifndef CHECKSYNC_HA_LEADERSHIP_H
#define CHECKSYNC_HA_LEADERSHIP_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace checksync::detail {
namespace etcd {
class Etcd;
}

std::string leader_key(const std::string &service);
std::string backups_prefix(const std::string &service);

// The leader key's value (JSON).
struct LeaderRecord {
  // The leadership's generation; 0 in the winning write (the write's own
  // revision is the generation: whoever reads it takes mod_revision).
  std::uint64_t generation = 0;
  std::int64_t lease_ms = 0;
  std::string holder;      // "program pid@host", for people
  std::uint64_t nonce = 0; // random per writer: tells its own write from another's
  // The leader's backups and quorum: a contender must hear from enough
  // backups that every quorum meets them (election.h).
  std::uint64_t backups = 0, quorum = 0;
  bool released = false; // left by a clean exit: free at once
};
std::string encode_leader(const LeaderRecord &r);
LeaderRecord decode_leader(const std::string &value); // throws Error
// How long a contender must see the key unchanged before taking it.
std::int64_t takeover_wait_ms(std::int64_t lease_ms);
std::uint64_t random_nonce64();
// The generation a record read from etcd names.
inline std::uint64_t generation_of(const LeaderRecord &r, std::int64_t mod_revision) {
  return r.generation ? r.generation : std::uint64_t(mod_revision);
}

struct LeadershipOptions {
  std::string url, service, holder;
  std::int64_t lease_ms = 1000;
  std::uint64_t backups = 0, quorum = 0; // for the record
  // Set when `serve` won the key for this process: the winning write's
  // revision and when it was sent (CLOCK_BOOTTIME, us). 0: win it here.
  std::int64_t won_revision = 0, won_sent_us = 0;
  std::uint64_t won_nonce = 0; // serve's, whose renewals carry it until ours appear
};

class Leadership {
public:
  // Wins the key (it must be absent or released: a record left by a primary
  // that did not exit cleanly belongs to the backups' election) or adopts
  // serve's win, then renews on a thread. Throws Error if it cannot lead.
  explicit Leadership(LeadershipOptions o);
  ~Leadership(); // stops renewing (the key expires by itself)
  bool valid() const;
  std::uint64_t generation() const { return generation_; }
  // At a clean exit: stop renewing and mark the record released if still
  // ours, so a backup takes over (or the next start leads) without waiting
  // out the lease, and the election still knows the quorum.
  void release();

private:
  void loop();
  // The key's mod_revision if its record is this leadership's (a renewal
  // that timed out but was applied, or serve renewing while this process
  // started: same generation), else nothing.
  std::optional<std::int64_t> own_late_write(etcd::Etcd &etcd, const std::string &key);

  const LeadershipOptions o_;
  std::uint64_t generation_ = 0;
  std::uint64_t nonce_ = random_nonce64();
  std::int64_t mod_revision_ = 0; // of our last write
  std::atomic<std::int64_t> valid_until_us_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

std::int64_t lease_clock_us();

} // namespace checksync::detail

#endif
