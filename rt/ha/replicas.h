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
#include <memory>
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
  Replicas(const std::vector<std::string> &backups, std::size_t quorum, ShipperOptions base,
           bool coordinated);
  std::size_t size() const { return shippers_.size(); }
  std::size_t quorum() const { return quorum_; }

  bool submit(std::uint64_t epoch, bool full, std::uint64_t prev_epoch, std::uint64_t chain_id,
              std::string bytes);
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
  // answering within a lease, which bounds what async mode can lose.
  bool lease_valid() const;

private:
  // Before the shippers: their threads bump it until they are destroyed.
  std::atomic<std::uint64_t> changes_{0}; // bumped by every shipper's on_change
  std::vector<std::unique_ptr<Shipper>> shippers_;
  std::size_t quorum_;
  bool coordinated_;
};

} // namespace checksync::detail

#endif
