// replicas.h - the primary's backups: one Shipper (shipper.h) per backup in
// CHECKSYNC_BACKUP, every checkpoint submitted to each, and an epoch durable
// once a quorum of them acknowledged it (CHECKSYNC_QUORUM: a number, or
// "majority" (the default) or "all"). Each backup keeps its own chain: one
// that fell behind or restarted gets a full checkpoint, the others deltas.
#ifndef CHECKSYNC_HA_REPLICAS_H
#define CHECKSYNC_HA_REPLICAS_H

#include "ha/shipper.h"

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace checksync::detail {

// "majority", "all" or a number from 1 to n -> the quorum; throws Error.
std::size_t parse_quorum(const std::string &text, std::size_t n);
// "HOST:PORT[,HOST:PORT...]" -> the backups (at least one, no repeats); throws Error.
std::vector<std::string> split_backups(const std::string &list);

class Replicas {
public:
  // One shipper per entry of `backups`, each with `base`'s other options.
  // max_lag_ms (0: no limit): lease_valid() is false while a checkpoint
  // taken longer ago than this has not reached a quorum, which bounds
  // what async mode can lose (docs/protocol.md, "Leadership on etcd").
  Replicas(const std::vector<std::string> &backups, std::size_t quorum, ShipperOptions base,
           bool coordinated, std::int64_t max_lag_ms = 0);
  std::size_t size() const { return shippers_.size(); }
  std::size_t quorum() const { return quorum_; }

  bool submit(std::uint64_t epoch, bool full, std::uint64_t prev_epoch, std::uint64_t chain_id,
              std::string bytes);
  // The lag rule's bookkeeping: `epoch` was taken at taken_us (lease clock),
  // counted from then whether or not it has been encoded and submitted yet;
  // forget() it if it will never be submitted.
  void taken(std::uint64_t epoch, std::int64_t taken_us);
  void forget(std::uint64_t epoch);
  // The highest floor any backup asks a full checkpoint above (Shipper::take_full_request).
  std::optional<std::uint64_t> take_full_request();
  // True once a quorum acknowledged `epoch` or a later one; false once too
  // many lost it for a quorum ever to.
  bool wait_acked(std::uint64_t epoch);
  bool flush(int timeout_ms);
  // acked: the newest epoch a quorum acknowledged; connected: a quorum is.
  ShipperMetrics metrics();
  // Heartbeat mode: every backup confirms it cannot have taken over (any of
  // them might). With a coordinator (etcd decides who leads): a quorum
  // confirms the link is alive, so a primary cut off from its backups stops
  // answering within a lease; and no checkpoint waits for a quorum longer
  // than max_lag_ms.
  bool lease_valid();

private:
  // Before the shippers: their threads bump it until they are destroyed.
  std::atomic<std::uint64_t> changes_{0}; // bumped by every shipper's on_change
  std::vector<std::unique_ptr<Shipper>> shippers_;
  std::size_t quorum_;
  bool coordinated_;
  // Checkpoints not yet known to be at a quorum: (epoch, when taken, us).
  bool settled(std::uint64_t epoch); // at a quorum, or lost for good
  void trim();                       // caller holds lag_mu_
  const std::int64_t max_lag_us_;
  std::mutex lag_mu_;
  std::deque<std::pair<std::uint64_t, std::int64_t>> pending_;
  std::atomic<std::int64_t> oldest_pending_us_{0}; // 0: none
};

} // namespace checksync::detail

#endif
