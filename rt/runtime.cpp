// runtime.cpp - the public API: init, resumed, checkpoint, wait_durable.
//
// checkpoint() marks and encodes synchronously (that is the consistent point)
// and hands the bytes to a writer thread; wait_durable() waits for the writer.
// Environment: CHECKSYNC_DIR (where checkpoints go), CHECKSYNC_RESUME (a
// checkpoint file to restore, set by `checksync-rt resume`).
#include <checksync/checksync.h>

#include "format.h"
#include "heap.h"
#include "marker.h"
#include "registry.h"
#include "restore.h"
#include "store.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <errno.h>
#include <memory>
#include <mutex>
#include <thread>
#include <unistd.h>

namespace checksync {
namespace {
using namespace detail;

struct Pending {
  std::uint64_t epoch;
  std::string bytes;
};

struct Runtime {
  std::mutex api_mu; // serialises init/checkpoint
  bool initialized = false;
  bool resumed = false;
  std::atomic<std::uint64_t> epoch{0}; // newest epoch taken
  std::uint32_t mark = 0;
  bool warned_no_store = false;

  std::unique_ptr<DirStore> store;
  std::mutex q_mu;
  std::condition_variable q_cv;
  std::deque<Pending> queue;
  std::uint64_t durable = 0;     // newest epoch on disk
  std::uint64_t processed = 0;   // newest epoch the writer finished, stored or not
  bool stopping = false;
  std::thread writer;
};

Runtime &rt() {
  static Runtime *r = new Runtime; // never destroyed; flushed at exit
  return *r;
}

constexpr std::size_t kMaxQueued = 2; // back-pressure: checkpoint() waits beyond this

void writer_loop(Runtime &r) {
  std::unique_lock lock(r.q_mu);
  for (;;) {
    r.q_cv.wait(lock, [&] { return r.stopping || !r.queue.empty(); });
    if (r.queue.empty())
      return;
    Pending p = std::move(r.queue.front());
    lock.unlock();
    std::string error;
    try {
      r.store->write(p.epoch, p.bytes);
    } catch (const Error &e) {
      error = e.what();
    }
    lock.lock();
    r.queue.pop_front();
    if (error.empty()) {
      r.durable = p.epoch;
    } else {
      std::fprintf(stderr, "checksync: checkpoint %llu was not stored: %s\n",
                   (unsigned long long)p.epoch, error.c_str());
    }
    r.processed = p.epoch;
    r.q_cv.notify_all();
  }
}

// At exit: write what was checkpointed, then stop the writer.
void flush_at_exit() {
  Runtime &r = rt();
  {
    std::unique_lock lock(r.q_mu);
    r.stopping = true;
    r.q_cv.notify_all();
  }
  if (r.writer.joinable())
    r.writer.join();
}

std::uint64_t now_ms() {
  using namespace std::chrono;
  return std::uint64_t(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

[[noreturn]] void die(const std::string &msg) {
  std::fprintf(stderr, "checksync: %s\n", msg.c_str());
  std::fflush(stderr);
  std::_Exit(3);
}

} // namespace

void init() {
  Runtime &r = rt();
  std::lock_guard lock(r.api_mu);
  if (r.initialized)
    return;
  try {
    const Snapshot &snap = registry_snapshot();
    if (const char *from = std::getenv("CHECKSYNC_RESUME")) {
      std::string path = from;
      ::unsetenv("CHECKSYNC_RESUME"); // not inherited by children
      auto img = decode_image(read_whole_file(path), path);
      restore_image(*img, snap.types, snap.roots);
      r.resumed = true;
      r.epoch = img->info.epoch;
      r.durable = r.processed = img->info.epoch;
    }
    if (const char *dir = std::getenv("CHECKSYNC_DIR"); dir && *dir) {
      r.store = std::make_unique<DirStore>(dir);
      r.writer = std::thread(writer_loop, std::ref(r));
      std::atexit(flush_at_exit);
    }
  } catch (const Error &e) {
    die(e.what());
  } catch (const std::exception &e) {
    die(std::string("cannot start: ") + e.what());
  }
  r.initialized = true;
}

bool resumed() noexcept { return rt().resumed; }

std::uint64_t checkpoint() {
  Runtime &r = rt();
  std::lock_guard lock(r.api_mu);
  if (!r.initialized)
    throw error("checksync::checkpoint() called before checksync::init()");
  std::string bytes;
  std::uint64_t epoch = r.epoch + 1;
  try {
    const Snapshot &snap = registry_snapshot();
    if (++r.mark == 0)
      ++r.mark;
    MarkResult marked = mark_from_roots(snap.types, snap.roots, r.mark);
    ImageInfo info;
    info.epoch = epoch;
    info.created_ms = now_ms();
    info.program = program_invocation_name;
    HeapStats hs = heap_stats();
    info.live_objects = hs.live_objects;
    info.live_bytes = hs.live_bytes;
    bytes = encode_full(info, snap.types, snap.roots, marked);
  } catch (const Error &e) {
    throw error(std::string("checkpoint failed: ") + e.what());
  }
  r.epoch = epoch;
  if (!r.store) {
    if (!r.warned_no_store) {
      std::fprintf(stderr, "checksync: CHECKSYNC_DIR is not set: checkpoints are not "
                           "stored anywhere\n");
      r.warned_no_store = true;
    }
    return epoch;
  }
  std::unique_lock q(r.q_mu);
  r.q_cv.wait(q, [&] { return r.queue.size() < kMaxQueued; });
  r.queue.push_back({epoch, std::move(bytes)});
  r.q_cv.notify_all();
  return epoch;
}

bool wait_durable(std::uint64_t epoch) {
  Runtime &r = rt();
  if (!r.store)
    return false;
  std::unique_lock q(r.q_mu);
  r.q_cv.wait(q, [&] {
    return r.durable >= epoch || r.processed >= epoch || epoch > r.epoch;
  });
  return r.durable >= epoch;
}

} // namespace checksync
