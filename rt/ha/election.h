// election.h - a backup's side of leadership on etcd (`serve --coordinator`),
// on a thread of its own (etcd calls block; serve's event loop must not):
//  - registers the backup under /checksync/SERVICE/backups/ADDR with what it
//    holds (generation, durable epoch), on an etcd lease, so a backup that
//    dies drops out of the election;
//  - watches the leader key and tells the Backup the leader's generation, so
//    older primaries are fenced even before the new one connects;
//  - with takeover enabled, campaigns when the leader key is absent, or has
//    not changed for longer than the leader's lease plus a margin
//    (leadership.h): only the registered backup holding the newest state
//    (generation, then epoch; ties to the lowest address) campaigns, so the
//    winner never misses an epoch a quorum acknowledged.
#ifndef CHECKSYNC_HA_ELECTION_H
#define CHECKSYNC_HA_ELECTION_H

#include "ha/backup.h"
#include "ha/etcd.h"

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace checksync::ha {

struct ElectionOptions {
  std::string url, service;
  std::string addr;             // this backup's address, as primaries reach it
  bool takeover = false;        // campaign when the leader is gone
  std::int64_t lease_ms = 1000; // the resumed program's lease (leadership.h)
  int poll_ms = 50;
};

// What the winner learns: the winning write and the other backups to ship to.
struct Win {
  std::int64_t revision = 0, sent_us = 0;
  std::vector<std::string> others; // registered backups but this one
  std::string self;                // this backup's address
};

class Election {
public:
  // `won` runs on the election's thread after the key was won; it returns
  // false if the takeover failed (the key then goes stale and another
  // backup takes it).
  Election(ElectionOptions o, Backup &backup, std::function<bool(const Win &)> won);
  ~Election();

private:
  void loop();
  void tick(detail::etcd::Etcd &etcd);

  const ElectionOptions o_;
  Backup &backup_;
  std::function<bool(const Win &)> won_;
  // The leader key as last seen: its mod_revision and since when (us).
  std::int64_t seen_revision_ = -1, seen_since_us_ = 0;
  std::int64_t lease_ = 0, lease_renewed_us_ = 0; // the registration's etcd lease
  std::string registered_;                        // the value last written
  bool warned_ = false, waiting_told_ = false, done_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace checksync::ha

#endif
