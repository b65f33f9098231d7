// pause_vs_dirty: incremental checkpoint pause and bytes versus the number of
// dirty objects, on a heap of a given size. For each dirty count D it writes
// one field of D random objects, checkpoints, and records the pause (time in
// checksync::checkpoint()), bytes written, changed payload, and the distinct
// 4 KiB pages those objects occupy (what a page-granular checkpointer such as
// CRIU pre-dump or VM migration would copy). p50/p99 over REPS checkpoints.
//   CHECKSYNC_DIR=D ./pause_vs_dirty HEAP_MB REPS D1 D2 ...
#include <checksync/checksync.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

struct [[checksync::persistent]] Record {
  std::int64_t key;
  std::int64_t value;
  std::int64_t payload[12];
  Record *next;
};

[[checksync::root]] Record *records = nullptr;

int main(int argc, char **argv) {
  checksync::init();
  std::uint64_t heap_mb = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1024;
  int reps = argc > 2 ? std::atoi(argv[2]) : 50;
  std::uint64_t n = heap_mb * (1 << 20) / (sizeof(Record) + 32);
  std::vector<Record *> v(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    v[i] = new Record{std::int64_t(i), 0, {}, records};
    records = v[i];
  }
  checksync::wait_durable(checksync::checkpoint()); // the full base
  auto base = checksync::last_checkpoint_stats();
  std::printf("heap_mb=%llu objects=%llu full: bytes=%llu pause_ms=%.1f\n",
              (unsigned long long)heap_mb, (unsigned long long)n,
              (unsigned long long)base.bytes, base.pause_us / 1000.0);
  std::uint64_t x = 88172645463325252ull;
  for (int a = 3; a < argc; ++a) {
    std::uint64_t dirty = std::strtoull(argv[a], nullptr, 10);
    std::vector<double> pause;
    double bytes = 0, payload = 0, pages = 0;
    for (int r = 0; r < reps; ++r) {
      for (std::uint64_t d = 0; d < dirty; ++d) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        v[x % n]->value += 1;
      }
      checksync::wait_durable(checksync::checkpoint());
      auto s = checksync::last_checkpoint_stats();
      pause.push_back(s.pause_us / 1000.0);
      bytes += double(s.bytes);
      payload += double(s.payload_bytes);
      pages += double(s.pages_touched);
    }
    std::sort(pause.begin(), pause.end());
    double p99 = pause[std::min<std::size_t>(pause.size() - 1, pause.size() * 99 / 100)];
    std::printf("heap_mb=%llu dirty=%llu pause_ms_p50=%.3f pause_ms_p99=%.3f bytes=%.0f "
                "changed_payload=%.0f bytes_per_payload=%.3f page_bytes=%.0f "
                "pages_per_bytes=%.1f\n",
                (unsigned long long)heap_mb, (unsigned long long)dirty, pause[pause.size() / 2],
                p99, bytes / reps, payload / reps, bytes / payload, pages * 4096 / reps,
                pages * 4096 / bytes);
  }
}
