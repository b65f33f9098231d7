// mutators.cpp - see mutators.h. A guard costs two atomic operations when no
// checkpoint is pending: the counter and the flag are a Dekker pair
// (sequentially consistent), so either the guard sees the flag and backs
// off, or checkpoint() sees the guard and waits for it.
#include "runtime/mutators.h"

#include "heap/tsan.h"

#include <checksync/checksync.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

namespace checksync::detail::mutators {
namespace {
std::atomic<long> active{0};      // guards held, all threads
std::atomic<bool> stopping{false}; // a checkpoint waits or collects
std::mutex mu;
std::condition_variable cv;
thread_local long held = 0; // guards held by this thread
} // namespace

void enter() noexcept {
  if (held++ > 0) { // nested: this thread is already counted
    active.fetch_add(1);
    return;
  }
  for (;;) {
    active.fetch_add(1);
    if (!stopping.load()) {
      tsan_acquire(&stopping); // what the last checkpoint did happens before
      return;
    }
    // A checkpoint is pending: step back so it can proceed, wait it out.
    active.fetch_sub(1);
    {
      std::lock_guard l(mu);
      cv.notify_all();
    }
    std::unique_lock l(mu);
    cv.wait(l, [] { return !stopping.load(); });
  }
}

void leave() noexcept {
  --held;
  tsan_release(&active); // this section's writes happen before a checkpoint
  active.fetch_sub(1);
  // Whenever a checkpoint waits (not only at zero: its own caller's guards
  // used to count), it re-checks.
  if (stopping.load()) {
    std::lock_guard l(mu);
    cv.notify_all();
  }
}

Suspend::Suspend() noexcept : held_(held) {
  for (long i = 0; i < held_; ++i)
    leave();
}

Suspend::~Suspend() {
  for (long i = 0; i < held_; ++i)
    enter();
}

Stop::Stop() {
  stopping.store(true);
  std::unique_lock l(mu);
  cv.wait(l, [] { return active.load() == 0; });
  tsan_acquire(&active);
}

Stop::~Stop() {
  tsan_release(&stopping);
  {
    std::lock_guard l(mu);
    stopping.store(false);
  }
  cv.notify_all();
}

} // namespace checksync::detail::mutators

checksync::mutator_guard::mutator_guard() noexcept { detail::mutators::enter(); }
checksync::mutator_guard::~mutator_guard() { detail::mutators::leave(); }
