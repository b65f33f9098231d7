// pause_kv_entries: the pause of checkpoint() for checksync-kv-like entries
// (two strings, two integers, a ref), as a server sees it: N entries; between
// two checkpoints D random entries get a new 100-byte value; the program
// never waits for durability, so its writes race with the background encoding
// of the previous delta (copy-on-write). Reports p50/p99 of the time in
// checkpoint(), the objects per delta, and the objects copied before a write.
//   CHECKSYNC_DIR=DIR ./pause_kv_entries N REPS D
#include <checksync/checksync.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

struct [[checksync::persistent]] Entry {
  std::string key;
  std::string value;
  std::int64_t expire_ms;
  std::uint64_t hash;
  Entry *next;
};

[[checksync::root]] Entry *head = nullptr;

int main(int argc, char **argv) {
  checksync::init();
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s ENTRIES REPS DIRTY\n", argv[0]);
    return 2;
  }
  std::uint64_t n = std::strtoull(argv[1], nullptr, 10);
  int reps = std::atoi(argv[2]);
  std::uint64_t d = std::strtoull(argv[3], nullptr, 10);
  std::vector<Entry *> v(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    v[i] = new Entry{"key:" + std::to_string(i), std::string(100, 'x'), 0, i, head};
    head = v[i];
  }
  checksync::wait_durable(checksync::checkpoint()); // the full base, not measured
  std::uint64_t x = 88172645463325252ull, last = 0;
  std::vector<double> pause;
  for (int r = 0; r < reps; ++r) {
    for (std::uint64_t k = 0; k < d; ++k) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      Entry *e = v[x % n];
      e->value.assign(100, char('a' + r % 26));
      e->hash++;
    }
    auto t0 = std::chrono::steady_clock::now();
    last = checksync::checkpoint();
    pause.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  checksync::wait_durable(last);
  auto st = checksync::last_checkpoint_stats();
  std::sort(pause.begin(), pause.end());
  std::printf("entries=%llu dirty=%llu pause_ms_p50=%.2f pause_ms_p99=%.2f objects=%llu "
              "bytes=%llu copied_before_write_per_delta=%.0f\n",
              (unsigned long long)n, (unsigned long long)d, pause[pause.size() / 2],
              pause[pause.size() * 99 / 100], (unsigned long long)st.objects,
              (unsigned long long)st.bytes,
              double(st.total_copied_before_write) / double(st.total_checkpoints - 1));
}
