// replicas.cpp - see replicas.h.
#include "ha/replicas.h"

#include "ha/leadership.h"
#include "schema/types.h"

#include <algorithm>
#include <chrono>
#include <set>

namespace checksync::detail {

std::size_t parse_quorum(const std::string &text, std::size_t n) {
  if (text.empty() || text == "majority")
    return n / 2 + 1;
  if (text == "all")
    return n;
  std::size_t q = 0;
  for (char c : text) {
    if (c < '0' || c > '9' || q > 1000)
      throw Error("quorum '" + text + "' is not majority, all or a number");
    q = q * 10 + std::size_t(c - '0');
  }
  if (q == 0 || q > n)
    throw Error("quorum " + text + " with " + std::to_string(n) +
                " backup(s): it must be from 1 to " + std::to_string(n));
  return q;
}

std::vector<std::string> split_backups(const std::string &list) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  std::size_t at = 0;
  for (;;) {
    std::size_t comma = list.find(',', at);
    std::string one = list.substr(at, comma == std::string::npos ? comma : comma - at);
    if (one.empty())
      throw Error("CHECKSYNC_BACKUP='" + list + "' has an empty entry");
    if (!seen.insert(one).second)
      throw Error("CHECKSYNC_BACKUP names " + one + " twice");
    out.push_back(one);
    if (comma == std::string::npos)
      return out;
    at = comma + 1;
  }
}

Replicas::Replicas(const std::vector<std::string> &backups, std::size_t quorum, ShipperOptions base,
                   bool coordinated, std::int64_t max_lag_ms)
    : quorum_(quorum), coordinated_(coordinated), max_lag_us_(max_lag_ms * 1000) {
  for (const std::string &b : backups) {
    ShipperOptions o = base;
    o.backup = wire::parse_endpoint(b);
    o.backup_text = b;
    o.on_change = [this] {
      changes_.fetch_add(1, std::memory_order_release);
      changes_.notify_all();
    };
    shippers_.push_back(std::make_unique<Shipper>(std::move(o)));
  }
}

bool Replicas::submit(std::uint64_t epoch, bool full, std::uint64_t prev, std::uint64_t chain_id,
                      std::string bytes) {
  auto shared = std::make_shared<const std::string>(std::move(bytes)); // one copy for all
  std::size_t taken = 0;
  for (auto &s : shippers_)
    taken += s->submit(epoch, full, prev, chain_id, shared);
  if (max_lag_us_) {
    std::lock_guard l(lag_mu_);
    trim();
  }
  return taken >= quorum_;
}

void Replicas::taken(std::uint64_t epoch, std::int64_t taken_us) {
  if (!max_lag_us_)
    return;
  std::lock_guard l(lag_mu_);
  pending_.emplace_back(epoch, taken_us);
  trim();
}

void Replicas::forget(std::uint64_t epoch) {
  std::lock_guard l(lag_mu_);
  auto it = std::find_if(pending_.begin(), pending_.end(),
                         [&](const auto &p) { return p.first == epoch; });
  if (it != pending_.end())
    pending_.erase(it);
  trim();
}

bool Replicas::settled(std::uint64_t epoch) {
  std::size_t acked = 0, lost = 0;
  for (auto &s : shippers_) {
    int st = s->ack_state(epoch);
    acked += st > 0;
    lost += st < 0;
  }
  return acked >= quorum_ || lost > shippers_.size() - quorum_;
}

void Replicas::trim() {
  while (!pending_.empty() && settled(pending_.front().first))
    pending_.pop_front();
  oldest_pending_us_.store(pending_.empty() ? 0 : pending_.front().second,
                           std::memory_order_release);
}

std::optional<std::uint64_t> Replicas::take_full_request() {
  std::optional<std::uint64_t> floor;
  for (auto &s : shippers_)
    if (auto f = s->take_full_request())
      floor = std::max(floor.value_or(0), *f);
  return floor;
}

bool Replicas::wait_acked(std::uint64_t epoch) {
  for (;;) {
    std::uint64_t seen = changes_.load(std::memory_order_acquire);
    std::size_t acked = 0, lost = 0;
    for (auto &s : shippers_) {
      int st = s->ack_state(epoch);
      acked += st > 0;
      lost += st < 0;
    }
    if (acked >= quorum_)
      return true;
    if (lost > shippers_.size() - quorum_)
      return false;
    changes_.wait(seen, std::memory_order_acquire); // until a shipper reports a change
  }
}

bool Replicas::flush(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::size_t flushed = 0;
  for (auto &s : shippers_) { // the others ship meanwhile: one deadline for all
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    flushed += s->flush(int(std::max<std::int64_t>(0, left.count())));
  }
  return flushed >= quorum_;
}

ShipperMetrics Replicas::metrics() {
  ShipperMetrics m;
  std::vector<std::uint64_t> acked;
  std::size_t connected = 0;
  for (auto &s : shippers_) {
    ShipperMetrics one = s->metrics();
    acked.push_back(one.acked);
    connected += one.connected;
    m.queued = std::max(m.queued, one.queued);
    m.queued_bytes = std::max(m.queued_bytes, one.queued_bytes);
    m.dropped += one.dropped;
    m.reconnects += one.reconnects;
    m.generation = std::max(m.generation, one.generation);
  }
  std::sort(acked.rbegin(), acked.rend());
  m.acked = acked[quorum_ - 1];
  m.connected = connected >= quorum_;
  return m;
}

bool Replicas::lease_valid() {
  if (std::int64_t oldest = oldest_pending_us_.load(std::memory_order_acquire);
      oldest && lease_clock_us() - oldest > max_lag_us_) {
    // Slow path, only once a checkpoint is overdue: is it still unsettled?
    std::lock_guard l(lag_mu_);
    trim();
    oldest = oldest_pending_us_.load(std::memory_order_relaxed);
    if (oldest && lease_clock_us() - oldest > max_lag_us_)
      return false;
  }
  std::size_t valid = 0;
  for (auto &s : shippers_)
    valid += s->lease_valid();
  return valid >= (coordinated_ ? quorum_ : shippers_.size());
}

} // namespace checksync::detail
