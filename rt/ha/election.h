// election.h - a backup's side of leadership on etcd (`serve --coordinator`),
// on a thread of its own (etcd calls block; serve's event loop must not):
//  - registers the backup under /checksync/SERVICE/backups/ADDR (its
//    advertised address), on an etcd lease, so a backup that dies drops out;
//  - watches the leader key and tells the Backup the leader's generation, so
//    older primaries are fenced (backup.h, current());
//  - with takeover enabled, campaigns when the leader key is absent or
//    released, or has not changed for longer than the leader's lease plus a
//    margin (leadership.h). It asks every registered backup directly what it
//    holds (registrations may lag), needs answers from enough backups that
//    every quorum of the old leader meets them (N - Q + 1, itself included),
//    and campaigns only if none holds newer state (generation that stored
//    it, then epoch; ties to the lowest address): the winner then holds
//    every epoch the old leader's quorum acknowledged;
//  - after winning, renews the key for the resumed program until that
//    program's own renewals take over (a large resume may outlast a lease).
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
  std::string secret;           // to ask the other backups what they hold
  bool takeover = false;        // campaign when the leader is gone
  std::int64_t lease_ms = 1000; // the resumed program's lease (leadership.h)
  std::vector<std::string> ship_to; // the resumed program's backups, with the registered ones
  std::string quorum;               // the resumed program's quorum ("": majority)
  int poll_ms = 50;
};

// What the winner hands to the program it resumes.
struct Win {
  std::int64_t revision = 0, sent_us = 0;
  std::uint64_t nonce = 0;          // of serve's records (the winning write, the renewals)
  std::vector<std::string> targets; // the backups it ships to (never this one)
  std::string quorum;               // CHECKSYNC_QUORUM for them
};

class Election {
public:
  // `won` runs on the election's thread after the key was won; it returns
  // false if the takeover failed (the key then goes stale and another
  // backup takes it). Destroying the Election stops the thread.
  Election(ElectionOptions o, Backup &backup, std::function<bool(const Win &)> won);
  ~Election();

private:
  void loop();
  void tick(detail::etcd::Etcd &etcd);
  void keep_registered(detail::etcd::Etcd &etcd, std::int64_t now);
  void campaign(detail::etcd::Etcd &etcd, std::uint64_t need, bool had_key);
  void hand_over(detail::etcd::Etcd &etcd);
  void say_once(const std::string &line); // a waiting reason, logged when it changes

  const ElectionOptions o_;
  Backup &backup_;
  std::function<bool(const Win &)> won_;
  // The leader key as last seen: its mod_revision and since when (us).
  std::int64_t seen_revision_ = -1, seen_since_us_ = 0;
  std::int64_t lease_ = 0, lease_renewed_us_ = 0; // the registration's etcd lease
  std::string registered_;                        // the value last written
  std::string said_;
  bool warned_ = false;
  // After winning: renewing for the resumed program.
  bool handing_over_ = false, done_ = false;
  std::int64_t my_revision_ = 0, handover_since_us_ = 0;
  std::uint64_t my_generation_ = 0, nonce_ = 0, backups_ = 0, quorum_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace checksync::ha

#endif
