// checksync/checksync.h - the CheckSync user contract.
//
// Mark state-holding types [[checksync::persistent]], a few namespace-scope
// variables [[checksync::root]], compile with the CheckSync clang plugin
// (checksync-config --cxxflags) and link the runtime (--ldflags).
#ifndef CHECKSYNC_CHECKSYNC_H
#define CHECKSYNC_CHECKSYNC_H

#include <checksync/abi.h>
#include <checksync/codec.h>
#include <checksync/shared.h>

#include <cstdint>
#include <stdexcept>

namespace checksync {

// Thrown by checkpoint() when the persistent state cannot be checkpointed
// (e.g. a ref to something that is not a persistent object made with new).
struct error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Starts the runtime. Call first thing in main. When the process was started by
// `checksync-rt resume`, restores every persistent object reachable from the
// roots and sets the roots; on any error it prints one line and exits(3):
// never a partial state.
void init();

// True when init() restored a checkpoint.
bool resumed() noexcept;

// Held by a thread, other than the one that calls checkpoint(), for as long
// as it reads or writes persistent objects (allocating and deleting them
// included), e.g. around each operation of a class's background thread:
//   { checksync::mutator_guard g; book->match(order); }
// checkpoint() waits until no guard is held and holds new ones off while it
// collects, so it captures a consistent cut. Cheap (two atomic operations)
// when no checkpoint is pending. Guards nest; checkpoint() may be called from
// inside one, by any number of threads: the caller's own guards are released
// for the call and re-entered after it. Keep guarded sections short: a
// checkpoint waits for the longest one.
class mutator_guard {
public:
  mutator_guard() noexcept;
  ~mutator_guard();
  mutator_guard(const mutator_guard &) = delete;
  mutator_guard &operator=(const mutator_guard &) = delete;
};

// Takes a checkpoint at a consistent point: other threads that touch
// persistent state hold a mutator_guard, and checkpoint() waits for them. The first is full (every object reachable from the
// roots); later ones are incremental: the objects created or written since the
// previous checkpoint, the ids of those freed, and the roots. Returns the
// checkpoint's epoch; the write to storage proceeds in the background.
// Throws checksync::error (and takes no checkpoint) when the state holds a ref
// the runtime cannot follow.
std::uint64_t checkpoint();

// Marks the persistent object containing p as changed, for writes the compiler
// cannot see (a pointer to a field kept across a checkpoint and written
// through later, writes from code compiled without the plugin). No effect on
// memory that is not a persistent object.
void touch(const void *p) noexcept;

// What the newest checkpoint() cost. bytes/objects are what was written: for an
// incremental checkpoint only new and changed objects. pages_touched is how many
// distinct 4 KiB pages those objects occupy (what a page-granular checkpointer
// would have copied); dirty_pages is how many pages the write barrier marked.
// pause_us is the time the caller spent in checkpoint(). Never waits: a delta
// is encoded in the background after checkpoint() returns, and bytes,
// pages_touched and copied_before_write are 0 until it is (`encoded`);
// wait_durable(epoch) first to have them.
struct checkpoint_stats {
  std::uint64_t epoch = 0;
  bool full = false;
  std::uint64_t objects = 0;
  std::uint64_t bytes = 0;
  std::uint64_t payload_bytes = 0;
  std::uint64_t pause_us = 0;
  std::uint64_t pages_touched = 0;
  std::uint64_t dirty_pages = 0;
  // Objects of this delta the program wrote (or deleted) while it was still
  // being encoded in the background, and that were copied first.
  std::uint64_t copied_before_write = 0;
  bool encoded = false;
  // Since the program started: checkpoints taken, time paused in them, and
  // bytes and pages_touched of those encoded.
  std::uint64_t total_checkpoints = 0;
  std::uint64_t total_pause_us = 0;
  std::uint64_t total_bytes = 0;
  std::uint64_t total_pages_touched = 0;
  std::uint64_t total_copied_before_write = 0;
  // With a backup (CHECKSYNC_BACKUP): the newest epoch it acknowledged, and
  // what waits to be acknowledged (bounded: see CHECKSYNC_BACKUP_QUEUE_MB).
  std::uint64_t backup_acked = 0;
  std::uint64_t backup_queued = 0;       // checkpoints
  std::uint64_t backup_queued_bytes = 0;
  std::uint64_t backup_dropped = 0; // dropped for lack of queue room (then a full follows)
  bool backup_connected = false;
};
checkpoint_stats last_checkpoint_stats();

// Blocks until checkpoint `epoch` (or a later one) is durable: fsync'ed in
// CHECKSYNC_DIR, or acknowledged by the backup (which acknowledges only what
// it has fsync'ed). With a backup it waits as long as the backup is away.
// Returns false if it can never become durable (local storage error, reported
// on stderr; dropped from a full shipping queue or refused by the backup, in
// which case the next checkpoint is full; no storage configured; an epoch not
// taken yet; with a coordinator, acknowledged only after this process's
// leadership lease ran out: a new leader may not have it).
bool wait_durable(std::uint64_t epoch);

// True while this process may answer clients as the primary: always without
// a backup, or with a backup that never takes over; with `serve --takeover`,
// only while the backup's confirmation of a recent heartbeat guarantees it
// cannot have taken over (until 80% of its --timeout after the heartbeat was
// sent; false before the first). With a coordinator (CHECKSYNC_COORDINATOR),
// only while its leadership on etcd is renewed (until the lease after the
// last successful renewal was sent), a quorum of backups confirms the link,
// and no checkpoint taken more than a lease ago still waits for its quorum. A server answers
// nothing, reads included, while it is false: another process may be the primary (docs/protocol.md,
// "Leases"). Cheap: atomic loads and a clock read (with a coordinator, a few
// locks while a checkpoint is overdue). Meaningful after init().
bool is_leader() noexcept;

// The runtime's messages. Each is one line: a UTC timestamp, "checksync:",
// the level (except for info) and the text, e.g.
//   2026-11-29T16:04:05.123Z checksync: warning: connection to the backup lost
// Only those at or above CHECKSYNC_LOG_LEVEL (error, warning, info (default)
// or debug) are produced. They go to stderr unless the program registers its
// own output here (nullptr restores stderr); the callback receives the line
// without a newline, from any runtime thread, one call at a time, and must not
// call back into the runtime.
enum class log_level { error = 0, warning = 1, info = 2, debug = 3 };
using log_output = void (*)(log_level level, const char *line, void *arg);
void set_log_output(log_output fn, void *arg) noexcept;

} // namespace checksync

// Tells the runtime when this translation unit is compiled without the
// CheckSync plugin (whose pass deletes the call): see abi.h.
#ifndef CHECKSYNC_RUNTIME_SOURCE
namespace checksync::detail {
namespace {
[[maybe_unused]] const int tu_without_plugin = checksync_rt_tu_without_plugin(__BASE_FILE__);
} // namespace
} // namespace checksync::detail
#endif

#endif
