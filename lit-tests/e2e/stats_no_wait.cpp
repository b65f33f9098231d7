// last_checkpoint_stats() never waits for the background encoding (a server
// asks for it after each checkpoint; waiting put the encoding back on its
// serving thread): with the encoder slowed to 1 ms per object, the stats of a
// 200-object delta come back at once, marked not yet encoded; after
// wait_durable they are complete.
//
// RUN: %cs_cxx %s -o %t %cs_ldflags
// RUN: rm -rf %t.d && env CHECKSYNC_DIR=%t.d CHECKSYNC_TEST_ENCODE_DELAY_US=1000 %t | FileCheck %s
// CHECK: at once: encoded=0 bytes=0 objects=200 fast=1
// CHECK: durable: encoded=1 bytes>0=1 total_checkpoints=2
#include <checksync/checksync.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <vector>

struct [[checksync::persistent]] Cell {
  std::int64_t value;
  Cell *next;
};

[[checksync::root]] Cell *cells = nullptr;

int main() {
  checksync::init();
  std::vector<Cell *> v;
  for (int i = 0; i < 200; ++i) {
    cells = new Cell{i, cells};
    v.push_back(cells);
  }
  checksync::wait_durable(checksync::checkpoint()); // full: encoded by the caller
  for (Cell *c : v)
    c->value += 1;
  std::uint64_t e = checksync::checkpoint(); // a delta of 200 objects: >= 200 ms to encode
  auto t0 = std::chrono::steady_clock::now();
  checksync::checkpoint_stats st = checksync::last_checkpoint_stats();
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                  .count();
  std::printf("at once: encoded=%d bytes=%llu objects=%llu fast=%d\n", int(st.encoded),
              (unsigned long long)st.bytes, (unsigned long long)st.objects, int(ms < 100));
  if (!checksync::wait_durable(e))
    return 1;
  st = checksync::last_checkpoint_stats();
  std::printf("durable: encoded=%d bytes>0=%d total_checkpoints=%llu\n", int(st.encoded),
              int(st.bytes > 0), (unsigned long long)st.total_checkpoints);
  return 0;
}
