// shipper.h - the primary's side of shipping checkpoints to a backup
// (`checksync-rt serve`), on a background thread: connects and
// authenticates (wire.h), sends queued checkpoints, collects the backup's
// acknowledgements, sends heartbeats, and reconnects after failures, resending
// from the last acknowledged epoch or asking the runtime for a full
// checkpoint when the chain cannot be continued.
//
// The socket is non-blocking and a checkpoint goes out in chunks
// (wire::chunk_bytes()), so heartbeats and acknowledgements pass between
// chunks of a checkpoint of any size.
//
// checkpoint() never waits for the network: submit() only queues. The
// checkpoints not yet sent are bounded in bytes (max_queue_bytes), except that
// one checkpoint is always admitted when nothing else waits to be sent, however
// large: a state bigger than the bound still ships. A full checkpoint that does
// not fit replaces the unsent ones (its ack covers them). A delta that does not
// fit is dropped with the unsent ones, with a line on stderr at that moment;
// the runtime's next checkpoint is then full, once what was already sent has
// been acknowledged (a checkpoint on the wire is never abandoned to make
// room: a large one would never arrive).
#ifndef CHECKSYNC_RT_SHIPPER_H
#define CHECKSYNC_RT_SHIPPER_H

#include "ha/session.h"
#include "ha/wire.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace checksync::detail {

struct ShipperOptions {
  wire::Endpoint backup;
  std::string backup_text; // for messages
  std::string secret;
  std::string program;
  int heartbeat_ms = 100;
  // The etcd leadership's generation (leadership.h), or 0: the backup assigns one.
  std::uint64_t generation = 0;
  std::uint64_t max_queue_bytes = std::uint64_t(256) << 20;
  // Called (from any thread, possibly under the shipper's lock: it must not
  // call back) whenever an epoch is acknowledged or lost (replicas.h waits on it).
  std::function<void()> on_change;
};

struct ShipperMetrics {
  std::uint64_t acked = 0;        // newest epoch the backup acknowledged
  std::uint64_t queued = 0;       // checkpoints not yet acknowledged
  std::uint64_t queued_bytes = 0; // their bytes
  std::uint64_t dropped = 0;      // checkpoints dropped unacknowledged (queue full, chain broken)
  std::uint64_t reconnects = 0;
  std::uint64_t generation = 0; // this primary's generation, once assigned
  bool connected = false;
};

class Shipper {
public:
  explicit Shipper(ShipperOptions o);
  ~Shipper();
  Shipper(const Shipper &) = delete;
  Shipper &operator=(const Shipper &) = delete;

  // Queues a checkpoint of chain `chain_id` (ImageInfo::chain_id). False if it
  // was dropped (queue full, it extends a dropped one, or a full checkpoint
  // not above the floor of a pending full request), which is reported on
  // stderr (at most a line a second).
  bool submit(std::uint64_t epoch, bool full, std::uint64_t prev_epoch, std::uint64_t chain_id,
              std::shared_ptr<const std::string> bytes);
  bool submit(std::uint64_t epoch, bool full, std::uint64_t prev_epoch, std::uint64_t chain_id,
              std::string bytes) {
    return submit(epoch, full, prev_epoch, chain_id,
                  std::make_shared<const std::string>(std::move(bytes)));
  }
  // If set, the next checkpoint must be full and have an epoch above the
  // value (the backup holds that epoch, or queued epochs up to it were lost).
  // Held back while checkpoints already sent await their ack: a new full
  // would only wait behind them.
  std::optional<std::uint64_t> take_full_request();
  // Blocks until `epoch` or a later one is acknowledged (true), or `epoch`
  // was dropped unacknowledged (false, even once a later one is: only a later
  // checkpoint can be durable).
  bool wait_acked(std::uint64_t epoch);
  // Without waiting: 1 acknowledged, -1 lost (as wait_acked's false), 0 not yet.
  int ack_state(std::uint64_t epoch);
  // Waits up to timeout_ms for everything queued to be acknowledged, then
  // stops the thread. False if some checkpoint was not acknowledged.
  bool flush(int timeout_ms);
  ShipperMetrics metrics();
  // True while the backup's latest LEASE says it cannot have taken over:
  // until 80% of its takeover timeout after the confirmed heartbeat was sent
  // (always, once a backup that never takes over confirmed one); false before
  // the first (docs/protocol.md, "Leases").
  bool lease_valid() const;

private:
  struct Entry {
    std::uint64_t epoch, prev;
    bool full;
    std::uint64_t chain_id;
    std::shared_ptr<const std::string> bytes;
  };
  void loop();
  int connect_and_handshake(std::uint64_t &durable, std::uint64_t &chain_id,
                            std::unique_ptr<wire::Session> &session);
  void reconcile(std::uint64_t durable, std::uint64_t chain_id);
  void mark_lost(std::uint64_t first, std::uint64_t last);
  bool is_lost(std::uint64_t epoch) const;
  void refused(const wire::ErrorMsg &e);
  void request_full(std::uint64_t floor, const std::string &why);
  void restart_chain(std::uint64_t durable, const std::string &why);
  void drop_unsent(std::uint64_t through, bool lost);
  void report_drop(std::uint64_t epoch, std::uint64_t count, const std::string &why);
  void acked(std::uint64_t epoch);
  bool serve_connection(int fd, wire::Session &session);
  // The next frame to send, not yet sealed (sealing is done outside mu_).
  struct Plain {
    bool any = false;
    wire::Type type{};
    std::string head;
    std::string_view body;
    std::shared_ptr<const std::string> keep; // owns body's bytes
  };
  bool next_frame(Plain &out, std::optional<Entry> &tx, std::uint64_t &tx_offset,
                  bool heartbeat_due);
  bool read_backup(wire::Reader &rd, wire::Session &session);
  void wake();
  [[noreturn]] void fatal(const std::string &msg, int code);

  ShipperOptions o_;
  std::atomic<std::int64_t> lease_until_us_{0}; // steady clock; INT64_MAX: unlimited
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Entry> queue_;  // unacknowledged, by epoch
  std::size_t unsent_ = 0;   // index of the first entry not sent on this connection
  std::uint64_t queued_bytes_ = 0, sent_bytes_ = 0, max_issued_ = 0;
  std::uint64_t acked_chain_ = 0; // chain id of m_.acked
  // Epochs dropped unacknowledged, as disjoint ranges first -> last: one per
  // outage or refusal, as consecutive drops merge.
  std::map<std::uint64_t, std::uint64_t> lost_;
  bool told_refusal_ = false; // the first refusal is explained on stderr
  // After the backup refused a checkpoint, no full is requested before this
  // (the pause doubles per refusal, up to 5 s, until a full is acknowledged).
  std::chrono::steady_clock::time_point full_not_before_{};
  std::chrono::milliseconds refusal_backoff_{0};
  std::chrono::steady_clock::time_point last_report_{};
  std::uint64_t unreported_ = 0; // drops since the last line on stderr
  std::optional<std::uint64_t> full_request_;
  ShipperMetrics m_;
  bool stopping_ = false;
  int wake_[2] = {-1, -1}; // submit/flush -> the thread's poll()
  std::thread thread_;
};

} // namespace checksync::detail

#endif
