// full_checkpoint: full-checkpoint and resume cost for N small persistent
// objects (default 1M). Run through bench/run_full_checkpoint.sh, which takes
// the medians; or by hand:
//   CHECKSYNC_DIR=D ./full_checkpoint write [N] [REPS]   # builds, checkpoints REPS times
//   checksync-rt resume --from D -- ./full_checkpoint resume
// Built with -DFULL_CHECKPOINT_V2 it is a newer build (hits widened to int64,
// a field with an initialiser added): its resume measures a resume across
// builds (docs/evolution.md) against the same build's.
// Prints one "key=value" line per measurement.
#include <checksync/checksync.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

struct [[checksync::persistent]] Item {
  std::uint64_t key;     // random 64-bit: the worst case for msgpack ints
#ifdef FULL_CHECKPOINT_V2
  std::int64_t hits;     // widened
  std::int32_t level = 3; // added
#else
  std::int32_t hits;     // small
#endif
  float score;
  Item *next;            // a ref
  Item *bucket_peer;     // another ref, often null
};

[[checksync::root]] Item *head = nullptr;
[[checksync::root]] std::uint64_t count = 0;

using Clock = std::chrono::steady_clock;
static double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

static const auto process_start = Clock::now();

int main(int argc, char **argv) {
  checksync::init();
  double init_ms = ms_since(process_start);
  std::string mode = argc > 1 ? argv[1] : "write";
  if (mode == "resume") {
    if (!checksync::resumed())
      return 1;
    std::uint64_t n = 0;
    for (Item *i = head; i; i = i->next)
      ++n;
    std::printf("resume_ms=%.1f objects=%llu objects_per_s=%.0f ok=%d\n", init_ms,
                (unsigned long long)n, double(n) / (init_ms / 1000.0), n == count);
    return n == count ? 0 : 1;
  }
  std::uint64_t n = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000000;
  int reps = argc > 3 ? std::atoi(argv[3]) : 5;
  std::uint64_t x = 88172645463325252ull;
  std::vector<Item *> items;
  items.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    Item *it = new Item;
    *it = Item{};
    it->key = x, it->hits = std::int32_t(x % 1000), it->score = float(x % 100) / 4.0f;
    it->next = head, it->bucket_peer = nullptr;
    if (i % 3 == 0 && !items.empty())
      it->bucket_peer = items[x % items.size()];
    head = it;
    items.push_back(it);
  }
  count = n;
  std::vector<double> take, durable;
  for (int r = 0; r < reps; ++r) {
    auto t0 = Clock::now();
    std::uint64_t e = checksync::checkpoint();
    take.push_back(ms_since(t0));
    auto t1 = Clock::now();
    if (!checksync::wait_durable(e))
      return 1;
    durable.push_back(ms_since(t1));
  }
  std::sort(take.begin(), take.end());
  std::sort(durable.begin(), durable.end());
  std::printf("objects=%llu raw_bytes=%llu checkpoint_ms_median=%.1f write_fsync_ms_median=%.1f "
              "reps=%d\n",
              (unsigned long long)n, (unsigned long long)(n * sizeof(Item)), take[reps / 2],
              durable[reps / 2], reps);
}
