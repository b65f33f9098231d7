// checkpoint() called from inside a mutator_guard, by several threads at
// once, while others hold guards and ask last_checkpoint_stats(): the
// caller's own guards are released for the call, so nobody waits for
// itself or for another checkpointing thread (a review found both
// deadlocks). Bounded: 4 threads x 200 checkpoints; `timeout` turns a hang
// into a failure.
//
// RUN: %cs_cxx %s -o %t %cs_ldflags
// RUN: rm -rf %t.d && env CHECKSYNC_DIR=%t.d timeout 120 %t | FileCheck %s
// CHECK: done: 800 checkpoints from inside guards, counter 800
// RUN: %csrt resume --from %t.d -- %t | FileCheck %s --check-prefix=RESUMED
// RESUMED: resumed: counter {{[0-9]+}}
#include <checksync/checksync.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

struct [[checksync::persistent]] Counter {
  std::int64_t n;
};
[[checksync::root]] Counter *counter = nullptr;

int main() {
  checksync::init();
  if (checksync::resumed()) {
    std::printf("resumed: counter %lld\n", (long long)counter->n);
    return 0;
  }
  counter = new Counter{0};
  std::atomic<int> taken{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        checksync::mutator_guard outer;
        checksync::mutator_guard nested;
        __atomic_fetch_add(&counter->n, 1, __ATOMIC_RELAXED);
        checksync::touch(counter);
        checksync::checkpoint();
        taken.fetch_add(1);
      }
    });
  std::thread asker([&] {
    while (!stop.load()) {
      checksync::mutator_guard g;
      (void)checksync::last_checkpoint_stats();
    }
  });
  for (auto &t : ts)
    t.join();
  stop = true;
  asker.join();
  checksync::wait_durable(checksync::checkpoint());
  std::printf("done: %d checkpoints from inside guards, counter %lld\n", taken.load(),
              (long long)counter->n);
  return 0;
}
