// runtime.cpp - the public API: init, resumed, checkpoint, touch,
// wait_durable, last_checkpoint_stats.
//
// checkpoint() is the consistent point. For a delta (objects new or written
// since the previous checkpoint, freed ids, roots) it only collects the
// objects, packs the roots and publishes the objects for copy-on-write
// (format/capture.h); the encoder thread encodes it while the program runs,
// and the pipeline thread stores or ships every checkpoint in epoch order (a
// slow disk does not hold up the next encoding). A full checkpoint (the
// first, and after a failure) is encoded on the caller. wait_durable() waits
// for both and then the disk or the backup. A compactor thread merges base +
// deltas into a new base in the background.
//
// Environment: CHECKSYNC_DIR (where checkpoints go), CHECKSYNC_RESUME (what to
// restore, set by `checksync-rt resume`), CHECKSYNC_FULL_EVERY (force a full
// checkpoint every N; default 0: only the first, and after a failed write),
// CHECKSYNC_COMPACT_AFTER (compact when this many deltas follow the base;
// default 1024, 0 = never by count), CHECKSYNC_COMPACT_RATIO (compact when the
// deltas' bytes exceed this multiple of the base's; default 1, 0 = never by
// size), CHECKSYNC_COMPRESS_LEVEL (zstd level of compacted bases; default 1,
// 0 = uncompressed), CHECKSYNC_VERIFY=1 (the correctness oracle, verify.h),
// CHECKSYNC_BACKGROUND_ENCODE=0 (encode deltas inside checkpoint()).
#include <checksync/checksync.h>

#include "format/capture.h"
#include "format/format.h"
#include "format/node_holders.h"
#include "ha/leadership.h"
#include "ha/replicas.h"
#include "heap/dirty.h"
#include "heap/heap.h"
#include "heap/marker.h"
#include "log/log.h"
#include "log/progress.h"
#include "runtime/build_id.h"
#include "runtime/mutators.h"
#include "runtime/pipeline.h"
#include "runtime/restore.h"
#include "runtime/verify.h"
#include "schema/registry.h"
#include "settings/options.h"
#include "store/chain.h"
#include "store/compactor.h"
#include "store/store.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <errno.h>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>
#include <sys/random.h>
#include <unistd.h>

namespace checksync {
namespace {
using namespace detail;
using Clock = std::chrono::steady_clock;

// At exit: write what was checkpointed, then stop the threads.
void flush_at_exit() {
  Runtime &r = rt();
  drain_pipeline(r);
  if (r.replicas) {
    int ms = int(options::uint("CHECKSYNC_EXIT_FLUSH_MS"));
    if (!r.replicas->flush(ms))
      LOG_WARN("exiting before the backup acknowledged every checkpoint (waited %d ms)", ms);
  }
  if (r.leadership)
    r.leadership->release(); // the backups need not wait out the lease
  if (r.replicas)
    return;
  if (r.compactor)
    r.compactor->stop();
}

std::uint64_t random_chain_id() {
  std::uint64_t id = 0;
  while (id == 0)
    if (::getrandom(&id, sizeof id, 0) != sizeof id)
      id = std::uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()) ^
           (std::uint64_t(::getpid()) << 40);
  return id;
}

std::uint64_t now_ms() {
  using namespace std::chrono;
  return std::uint64_t(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

[[noreturn]] void die(const std::string &msg) {
  LOG_ERROR("%s", msg.c_str());
  std::_Exit(3);
}

// Translation units built without the plugin allocate persistent types with
// the ordinary operator new and write them without barriers: their state would
// be missing from checkpoints, or resume would "succeed" with nothing.
void check_instrumented(const Snapshot &snap) {
  std::vector<std::string> bare = registry_units_without_plugin();
  if (bare.empty())
    return;
  std::string files;
  for (const std::string &f : bare)
    files += (files.empty() ? "" : ", ") + f;
  std::string msg =
      snap.types.empty() && snap.roots.empty()
          ? "this program was built without the CheckSync plugin (" + files +
                "): no persistent type or root is registered, so checkpoints would hold "
                "nothing; compile with $(checksync-config --cxxflags)"
          : files + (bare.size() > 1 ? " were" : " was") +
                " compiled without the CheckSync plugin: persistent objects allocated "
                "and fields written there would be missing from checkpoints; compile "
                "every file with $(checksync-config --cxxflags)";
  if (options::flag("CHECKSYNC_ALLOW_UNINSTRUMENTED")) {
    LOG_WARN("%s (allowed by CHECKSYNC_ALLOW_UNINSTRUMENTED)", msg.c_str());
    return;
  }
  die(msg + " (CHECKSYNC_ALLOW_UNINSTRUMENTED=1 runs anyway)");
}

// A fresh marking stamp. Marks are compared for equality only, so when the
// counter wraps every mark is reset first (rare: 2^32 stamps).
std::uint32_t next_stamp(Runtime &r) {
  if (++r.stamp == 0 || (r.stamp_period && r.stamp >= r.stamp_period)) {
    heap_reset_marks();
    r.stamp = 1;
  }
  return r.stamp;
}

// A delta whose written objects hold a ref no file can encode: decides as a
// full checkpoint would. Marking from the roots throws if such an object is
// reachable; otherwise it is garbage (typically one sharing a card with a
// written object and pointing to an object deleted since), and the delta
// writes it with that ref as null. Garbage stays in the delta, and its valid
// refs are followed as usual, so the chain stays closed under references if
// the program links it in again.
void close_delta_marking(const Snapshot &snap, std::vector<ObjHeader *> &objects, Runtime &r) {
  mark_from_roots(snap.types, snap.roots, next_stamp(r));
  std::uint32_t in_delta = next_stamp(r);
  for (ObjHeader *h : objects)
    h->mark = in_delta;
  close_delta(snap.types, snap.roots, objects, in_delta, r.chain, /*garbage_may_dangle=*/true);
}

} // namespace

void init() {
  Runtime &r = rt();
  std::lock_guard lock(r.api_mu);
  if (r.initialized)
    return;
  options::check_environment(); // a bad value is an error now, not when first read
  r.full_every = options::uint("CHECKSYNC_FULL_EVERY");
  r.stamp_period = std::uint32_t(options::uint("CHECKSYNC_TEST_STAMP_PERIOD"));
  r.compact_after = options::uint("CHECKSYNC_COMPACT_AFTER");
  r.compact_ratio = options::real("CHECKSYNC_COMPACT_RATIO");
  r.compress_level = int(options::uint("CHECKSYNC_COMPRESS_LEVEL"));
  if (options::flag("CHECKSYNC_VERIFY"))
    r.replica = std::make_unique<Replica>();
  r.verify_cow = options::flag("CHECKSYNC_VERIFY_COW");
  r.background_encode = options::flag("CHECKSYNC_BACKGROUND_ENCODE");
  std::string resumed_from;
  std::vector<std::string> schema_changes; // resumed from another build (evolve.h)
  try {
    const Snapshot &snap = registry_snapshot();
    check_instrumented(snap);
    std::int64_t lo_lease_ms = 0;
    // Leadership first: a resume of a large state must not outlast the lease
    // serve won for this process.
    if (const char *url = std::getenv("CHECKSYNC_COORDINATOR"); url && *url) {
      // Tests stand in for a resume whose checking outlasts the lease.
      if (auto ms = options::uint("CHECKSYNC_TEST_START_DELAY_MS"))
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      LeadershipOptions lo;
      lo.url = url;
      lo.service = options::text("CHECKSYNC_SERVICE");
      if (lo.service.empty())
        die("CHECKSYNC_COORDINATOR is set but CHECKSYNC_SERVICE is not: name the service");
      lo.lease_ms = std::int64_t(options::uint("CHECKSYNC_LEASE_MS"));
      char host[256] = "?";
      ::gethostname(host, sizeof host - 1);
      lo.holder =
          std::string(program_invocation_name) + " " + std::to_string(::getpid()) + "@" + host;
      if (const char *b = std::getenv("CHECKSYNC_BACKUP"); b && *b) {
        lo.backups = split_backups(b).size();
        lo.quorum = parse_quorum(options::text("CHECKSYNC_QUORUM"), lo.backups);
      }
      lo.won_revision = std::int64_t(options::uint("CHECKSYNC_LEADER_REVISION"));
      lo.won_sent_us = std::int64_t(options::uint("CHECKSYNC_LEADER_SINCE_US"));
      lo.won_nonce = options::uint("CHECKSYNC_LEADER_NONCE");
      ::unsetenv("CHECKSYNC_LEADER_REVISION"); // serve's win, for this process only
      ::unsetenv("CHECKSYNC_LEADER_SINCE_US");
      ::unsetenv("CHECKSYNC_LEADER_NONCE");
      lo_lease_ms = lo.lease_ms;
      r.leadership = std::make_unique<Leadership>(lo);
    }
    if (const char *from = std::getenv("CHECKSYNC_RESUME")) {
      resumed_from = from;
      ::unsetenv("CHECKSYNC_RESUME"); // not inherited by children
      std::string note;
      auto img = load_chain(resumed_from, &note);
      if (!note.empty())
        LOG_WARN("resuming epoch %llu; %s", (unsigned long long)img->info.epoch, note.c_str());
      r.chain = 1; // the restored objects are what the resumed chain holds
      r.chain_id = img->info.chain_id;
      std::vector<std::uint64_t> dropped;
      std::vector<ObjHeader *> renumbered;
      {
        log::Progress progress("resume of epoch " + std::to_string(img->info.epoch), 0);
        progress.step("restoring " + std::to_string(img->objects.size()) + " objects");
        restore_image(*img, snap.types, snap.roots, r.chain, &dropped, &renumbered,
                      &schema_changes);
      }
      r.resumed = true;
      r.epoch = img->info.epoch;
      r.durable = r.processed = img->info.epoch;
      clear_dirty(); // the heap now equals the stored state
      for (ObjHeader *h : renumbered) // except the ids of container nodes (restore.h)
        checksync_rt_mark_range(h->payload(), h->count * snap.types[h->type].size);
      take_freed_ids();
      heap_note_freed(dropped); // the next delta sheds the garbage the chain carried
      if (r.replica)
        r.replica->apply(encode_merged(*img));
    }
    if (const char *backup = std::getenv("CHECKSYNC_BACKUP"); backup && *backup) {
      const char *secret = std::getenv("CHECKSYNC_SECRET");
      if (!secret || !*secret)
        die("CHECKSYNC_BACKUP is set but CHECKSYNC_SECRET is not: set the secret shared "
            "with `checksync-rt serve`");
      ShipperOptions so;
      so.secret = secret;
      so.program = program_invocation_name;
      so.heartbeat_ms = int(options::uint("CHECKSYNC_HEARTBEAT_MS"));
      so.max_queue_bytes = options::uint("CHECKSYNC_BACKUP_QUEUE_MB") << 20;
      so.generation = r.leadership ? r.leadership->generation() : 0;
      auto backups = split_backups(backup);
      std::size_t quorum = parse_quorum(options::text("CHECKSYNC_QUORUM"), backups.size());
      // With a coordinator, async mode loses at most a lease of writes: no
      // answers while a checkpoint has waited longer for its quorum.
      r.replicas = std::make_unique<Replicas>(backups, quorum, std::move(so), bool(r.leadership),
                                              r.leadership ? lo_lease_ms : 0);
      r.need_full = true; // the backup decides what it still needs at connection
      r.pipeline = std::thread(pipeline_loop, std::ref(r));
      r.encoder = std::thread(encoder_loop, std::ref(r));
      std::atexit(flush_at_exit);
    } else if (const char *dir = std::getenv("CHECKSYNC_DIR"); dir && *dir) {
      r.store = std::make_unique<DirStore>(dir);
      auto existing = list_checkpoints(dir);
      std::error_code ec;
      bool same_dir = r.resumed && std::filesystem::equivalent(resumed_from, dir, ec);
      // Continue the chain we resumed from; otherwise start a new one with
      // epochs above whatever the directory holds (it then replaces them).
      r.need_full = !(same_dir && r.store->has_base());
      if (!existing.empty() && existing.back().epoch > r.epoch) {
        if (!r.resumed)
          LOG_WARN("starting fresh in %s, which holds checkpoints up to epoch %llu; the first "
                   "checkpoint replaces them (use `checksync-rt resume` to continue from them "
                   "instead)",
                   dir, (unsigned long long)existing.back().epoch);
        r.epoch = existing.back().epoch;
        r.need_full = true;
      }
      r.compactor = std::make_unique<Compactor>(*r.store, r.compact_after, r.compact_ratio,
                                                r.compress_level);
      r.pipeline = std::thread(pipeline_loop, std::ref(r));
      r.encoder = std::thread(encoder_loop, std::ref(r));
      std::atexit(flush_at_exit);
    }
    // The stored chain has the old build's schema: start a new one.
    if (!schema_changes.empty())
      r.need_full = true;
  } catch (const Error &e) {
    die(e.what());
  } catch (const std::exception &e) {
    die(std::string("cannot start: ") + e.what());
  }
  r.initialized = true;
}

bool resumed() noexcept { return rt().resumed; }

bool is_leader() noexcept {
  Runtime &r = rt();
  return (!r.leadership || r.leadership->valid()) && (!r.replicas || r.replicas->lease_valid());
}

void touch(const void *p) noexcept {
  std::uint64_t off;
  if (ObjHeader *h = find_object(p, &off))
    checksync_rt_mark_range(h, sizeof(ObjHeader) + 1); // + 1: the payload (cow.h)
}

checkpoint_stats last_checkpoint_stats() {
  Runtime &r = rt();
  // Not api_mu: a guarded thread may ask while a checkpoint waits for it.
  checkpoint_stats s;
  {
    std::lock_guard q(r.q_mu);
    s = r.last;
  }
  if (r.replicas) {
    ShipperMetrics m = r.replicas->metrics();
    s.backup_acked = m.acked;
    s.backup_queued = m.queued;
    s.backup_queued_bytes = m.queued_bytes;
    s.backup_dropped = m.dropped;
    s.backup_connected = m.connected;
  }
  return s;
}

// The oracle (CHECKSYNC_VERIFY): the replica with this checkpoint applied
// must equal a full checkpoint of the heap now.
void verify(Runtime &r, const Snapshot &snap, const ImageInfo &info, const std::string &bytes) {
  r.replica->apply(bytes);
  next_stamp(r);
  MarkResult now = mark_from_roots(snap.types, snap.roots, r.stamp);
  ImageInfo fi = info;
  fi.kind = "full";
  fi.prev_epoch = 0;
  fi.started = {};
  std::string diff = r.replica->compare(encode_image(fi, snap.types, snap.roots, now.objects, {}));
  if (!diff.empty()) {
    LOG_ERROR("verify: epoch %llu: %s", (unsigned long long)info.epoch, diff.c_str());
    std::abort();
  }
}

namespace {

// What a checkpoint holds: the objects to write and the ids freed since the
// last one. `fallback` says why a delta had to mark from the roots.
struct Collected {
  std::vector<ObjHeader *> objects;
  std::vector<std::uint64_t> freed;
  std::string fallback;
};

// Objects holding containers in node form are in every delta: their
// elements may have been written through iterators (node_holders.h).
void add_node_holders(std::vector<ObjHeader *> &objects, std::uint32_t stamp, std::uint32_t chain) {
  std::size_t mid = objects.size();
  for (ObjHeader *h : node_holders())
    if (h->mark != stamp) {
      h->mark = stamp;
      h->stored = chain;
      objects.push_back(h);
    }
  if (objects.size() != mid) // both halves in address order
    std::inplace_merge(objects.begin(), objects.begin() + std::ptrdiff_t(mid), objects.end());
}

Collected collect(Runtime &r, const Snapshot &snap, bool full, ImageInfo &info) {
  Collected c;
  if (!full) {
    DirtySet dirty = collect_dirty(r.stamp, r.chain);
    c.objects = std::move(dirty.objects);
    info.stats.dirty_pages = dirty.dirty_pages;
    add_node_holders(c.objects, r.stamp, r.chain);
    try {
      close_delta(snap.types, snap.roots, c.objects, r.stamp, r.chain);
    } catch (const Error &e) {
      c.fallback = e.what();
      close_delta_marking(snap, c.objects, r); // costs a marking of the heap: reported
    }
    c.freed = take_freed_ids();
    return c;
  }
  clear_dirty(); // the next delta is relative to this image
  take_freed_ids();
  c.objects = mark_from_roots(snap.types, snap.roots, r.stamp).objects;
  if (++r.chain == 0)
    ++r.chain;
  r.chain_id = random_chain_id();
  for (ObjHeader *h : c.objects)
    h->stored = r.chain;
  return c;
}

ImageInfo describe(Runtime &r, const Snapshot &snap, std::uint64_t epoch, bool full,
                   const std::vector<ObjHeader *> &objects, ImageInfo info) {
  info.epoch = epoch;
  info.kind = full ? "full" : "delta";
  info.prev_epoch = full ? 0 : r.epoch.load();
  info.chain_id = r.chain_id;
  info.created_ms = now_ms();
  info.program = program_and_build();
  HeapStats hs = heap_stats();
  info.live_objects = hs.live_objects;
  info.live_bytes = hs.live_bytes;
  info.stats.objects = objects.size();
  for (ObjHeader *h : objects)
    info.stats.payload_bytes += h->count * snap.types[h->type].size;
  return info;
}

// A delta is encoded in the background (job.delta) unless `encode_here`;
// a full checkpoint always here.
void encode(Runtime &r, std::shared_ptr<const Snapshot> snap_ptr, Collected &c, ImageInfo &info,
            Job &job, bool encode_here, Clock::time_point t0) {
  const Snapshot &snap = *snap_ptr;
  if (job.full) {
    info.stats.pages_touched = pages_touched(c.objects, snap.types);
    info.started = t0;
    job.bytes = encode_image(info, snap.types, snap.roots, c.objects, c.freed);
    return;
  }
  job.delta = std::make_unique<DeltaEncoding>(std::move(snap_ptr), info, std::move(c.objects),
                                              std::move(c.freed));
  if (!encode_here) { // values of node holders, known or new, packed now (node_holders.h)
    std::vector<ObjHeader *> holders;
    for (ObjHeader *h : job.delta->objects())
      if (snap.types[h->type].holds_nodes)
        holders.push_back(h);
    job.delta->copy_now(holders);
  }
  // The tail records the pause: the time the program was stopped.
  job.delta->info().stats.pause_us = std::uint64_t(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count());
  if (r.verify_cow) {
    ImageInfo same = job.delta->info();
    same.stats.pages_touched = pages_touched(job.delta->objects(), snap.types);
    std::vector<ObjHeader *> by_id = job.delta->objects();
    std::sort(by_id.begin(), by_id.end(),
              [](const ObjHeader *a, const ObjHeader *b) { return a->id < b->id; });
    job.expected = encode_image(same, snap.types, snap.roots, by_id, job.delta->freed());
  }
  // A delta that had to mark from the roots may hold garbage with refs to
  // objects freed before checkpoint(), written as null: their memory may
  // be reused once the program runs on, so it is encoded here.
  if (encode_here || !c.fallback.empty()) {
    job.bytes = job.delta->encode();
    info.stats.pages_touched = job.delta->info().stats.pages_touched;
    r.retired.push_back(std::move(job.delta));
  }
}

// Publishes the statistics and hands the job to the pipeline (or drops it
// when nothing stores checkpoints).
std::uint64_t publish(Runtime &r, Job job, checkpoint_stats last) {
  auto publish_last = [&] { // under q_mu once the pipeline runs
    last.total_checkpoints = r.last.total_checkpoints + 1;
    last.total_pause_us = r.last.total_pause_us + last.pause_us;
    last.total_bytes = r.last.total_bytes + (last.encoded ? last.bytes : 0);
    last.total_pages_touched =
        r.last.total_pages_touched + (last.encoded ? last.pages_touched : 0);
    last.total_copied_before_write = r.last.total_copied_before_write;
    r.last = last;
  };
  std::uint64_t epoch = job.epoch;
  if (!r.pipeline.joinable()) {
    publish_last();
    r.epoch = epoch;
    if (!r.warned_no_store) {
      LOG_WARN("CHECKSYNC_DIR is not set: checkpoints are not stored anywhere");
      r.warned_no_store = true;
    }
    return epoch;
  }
  std::unique_lock q(r.q_mu);
  r.q_cv.wait(q, [&] { return r.queue.size() < kMaxQueued; });
  publish_last();
  r.epoch = epoch;
  if (job.delta)
    ++r.encoding;
  job.ready = !job.delta;
  r.queue.push_back(std::move(job));
  r.q_cv.notify_all();
  return epoch;
}

} // namespace

std::uint64_t checkpoint() {
  Runtime &r = rt();
  mutators::Suspend own_guards; // before api_mu: see mutators.h
  std::lock_guard lock(r.api_mu);
  if (!r.initialized)
    throw error("checksync::checkpoint() called before checksync::init()");
  auto t0 = Clock::now();
  std::int64_t taken_us = lease_clock_us(); // what async mode may lose is timed from here
  {
    // The previous delta's copy-on-write must be over before collecting.
    std::unique_lock q(r.q_mu);
    r.q_cv.wait(q, [&] { return r.encoding == 0; });
    r.retired.clear();
  }
  std::uint64_t epoch = r.epoch + 1;
  bool full = r.need_full || r.force_full.exchange(false) ||
              (r.full_every && r.since_full + 1 >= r.full_every);
  if (r.replicas)
    if (std::optional<std::uint64_t> floor = r.replicas->take_full_request()) {
      full = true; // the backup cannot continue the chain (or epochs were dropped)
      epoch = std::max(epoch, *floor + 1);
    }
  // Without a pipeline (no storage configured) or with the oracle, deltas are
  // encoded here too.
  bool encode_here = !r.pipeline.joinable() || r.replica || !r.background_encode;
  Job job;
  job.epoch = epoch;
  job.full = full;
  job.taken_us = taken_us;
  ImageInfo info;
  std::string fallback; // why a delta became a full checkpoint
  // Guarded threads wait while the state is collected (and, for a delta,
  // until its copy-on-write is armed); storing and shipping do not stop them.
  std::optional<mutators::Stop> stop(std::in_place);
  try {
    std::shared_ptr<const Snapshot> snap = registry_snapshot_shared();
    next_stamp(r);
    Collected c = collect(r, *snap, full, info);
    fallback = c.fallback;
    info = describe(r, *snap, epoch, full, c.objects, info);
    encode(r, snap, c, info, job, encode_here, t0);
    if (r.replica)
      verify(r, *snap, info, job.bytes);
  } catch (const Error &e) {
    r.need_full = true; // the write marks were consumed: only a full is complete
    throw error(std::string("checkpoint failed: ") + e.what());
  } catch (...) { // a user codec's exception, bad_alloc: the same
    r.need_full = true;
    throw;
  }
  stop.reset();
  if (!fallback.empty() && r.fallbacks++ < 3)
    LOG_WARN("checkpoint %llu marked the heap from the roots (a pause proportional to the "
             "heap): an object on a written card is unreachable and %s; that ref is stored as "
             "null%s",
             (unsigned long long)epoch, fallback.c_str(),
             r.fallbacks == 3 ? " (further cases are not reported)" : "");
  // Later checkpoints are deltas: a full image costs a pause proportional to
  // the heap, so new bases come from the background compactor instead.
  r.need_full = false;
  r.since_full = full ? 0 : r.since_full + 1;
  std::uint64_t pause_us = std::uint64_t(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count());
  checkpoint_stats last{epoch,       full,     info.stats.objects,
                        job.bytes.size(), info.stats.payload_bytes, pause_us,
                        info.stats.pages_touched, info.stats.dirty_pages};
  last.encoded = !job.delta; // encoded here (else the pipeline fills these in)
  job.prev_epoch = info.prev_epoch;
  job.chain_id = info.chain_id;
  if (r.replicas) // counted from now, not from when it is shipped (replicas.h)
    r.replicas->taken(job.epoch, job.taken_us);
  return publish(r, std::move(job), last);
}

bool wait_durable(std::uint64_t epoch) {
  Runtime &r = rt();
  if (!r.pipeline.joinable() || epoch > r.epoch)
    return false;
  std::unique_lock q(r.q_mu);
  if (r.replicas) {
    r.q_cv.wait(q, [&] { return r.processed >= epoch; });
    if (std::find(r.unencoded.begin(), r.unencoded.end(), epoch) != r.unencoded.end())
      return false;
    q.unlock();
    // With a coordinator, an epoch acknowledged after this process's lease
    // ran out may be missing from the state a new leader resumed (it won on
    // what the backups held then): not durable for this process's clients.
    return r.replicas->wait_acked(epoch) && (!r.leadership || r.leadership->valid());
  }
  r.q_cv.wait(q, [&] { return r.durable >= epoch || r.processed >= epoch; });
  return r.durable >= epoch;
}

} // namespace checksync
