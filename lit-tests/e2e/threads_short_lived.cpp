// Threads that each allocate one persistent object and exit, 64 at a time,
// 40,000 in all, with at most ~8,000 objects live: the persistent heap stays
// small (before: a 1 GiB arena ran out, and resident memory grew with every
// thread), and the state checkpoints and resumes.
//
// RUN: %cs_cxx %s -o %t %cs_ldflags
// RUN: rm -rf %t.d && env CHECKSYNC_DIR=%t.d CHECKSYNC_HEAP_RESERVE_GB=1 %t 40000 | FileCheck %s
// CHECK: done: [[LIVE:[0-9]+]] live, resident growth under 64 MB: yes
// RUN: %csrt resume --from %t.d -- %t | FileCheck %s --check-prefix=RESUMED
// RESUMED: resumed: {{[0-9]+}} live
#include <checksync/checksync.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <utility>
#include <thread>
#include <vector>

struct [[checksync::persistent]] Obj {
  long a[12];
  Obj *next;
};
[[checksync::root]] Obj *head = nullptr;
[[checksync::root]] long live = 0;

static long rss_kb() {
  FILE *f = std::fopen("/proc/self/status", "r");
  char line[256];
  long kb = 0;
  while (std::fgets(line, sizeof line, f))
    if (!std::strncmp(line, "VmRSS:", 6))
      kb = std::atol(line + 6);
  std::fclose(f);
  return kb;
}

int main(int argc, char **argv) {
  checksync::init();
  if (checksync::resumed()) {
    long n = 0;
    for (Obj *o = head; o; o = o->next)
      ++n;
    std::printf("resumed: %ld live%s\n", n, n == live ? "" : " (MISMATCH)");
    return n == live ? 0 : 1;
  }
  int total = argc > 1 ? std::atoi(argv[1]) : 40000;
  long start_kb = rss_kb();
  std::mutex mu;
  for (int i = 0; i < total; i += 64) {
    std::vector<std::thread> batch;
    for (int j = 0; j < 64; ++j)
      batch.emplace_back([&] {
        checksync::mutator_guard g;
        Obj *o = new Obj{};
        std::lock_guard l(mu);
        o->next = head;
        head = o;
        ++live;
      });
    for (auto &t : batch)
      t.join();
    if (live > 8000) { // free all but the newest 4,000 (on this thread)
      Obj *o = head;
      for (int k = 1; k < 4000; ++k)
        o = o->next;
      for (Obj *rest = std::exchange(o->next, nullptr); rest;) {
        Obj *next = rest->next;
        delete rest;
        rest = next;
        --live;
      }
    }
    if (i % 6400 == 0)
      checksync::checkpoint();
  }
  checksync::wait_durable(checksync::checkpoint());
  long growth_kb = rss_kb() - start_kb;
  std::printf("done: %ld live, resident growth under 64 MB: %s (%ld kB)\n", live,
              growth_kb < 64 * 1024 ? "yes" : "no", growth_kb);
  return 0;
}
