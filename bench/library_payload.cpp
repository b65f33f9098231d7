// library_payload: checkpoint size versus logical payload for a string-heavy
// and a container-heavy structure, and resume throughput. Run through
// bench/run_library_payload.sh:
//   CHECKSYNC_DIR=D ./library_payload write strings|containers N
//   checksync-rt resume --from D -- ./library_payload resume
// "Logical payload" is what the values hold: string characters, 8 bytes per
// integer element, map keys' characters plus values, and the fixed fields.
#include <checksync/checksync.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

struct [[checksync::persistent]] Entry { // string-heavy: a cache entry
  std::string key;
  std::string value;
  std::int64_t expires_at;
  Entry *next;
};

struct [[checksync::persistent]] Series { // container-heavy: time series
  std::vector<std::int64_t> samples;
  std::map<std::string, std::int64_t> labels;
  Series *next;
};

[[checksync::root]] Entry *entries = nullptr;
[[checksync::root]] Series *series = nullptr;
[[checksync::root]] std::uint64_t logical_payload = 0;
[[checksync::root]] std::uint64_t object_count = 0;

using Clock = std::chrono::steady_clock;
static const auto process_start = Clock::now();

int main(int argc, char **argv) {
  checksync::init();
  double init_ms = std::chrono::duration<double, std::milli>(Clock::now() - process_start).count();
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "resume") {
    if (!checksync::resumed())
      return 1;
    std::uint64_t n = 0;
    for (Entry *e = entries; e; e = e->next)
      ++n;
    for (Series *s = series; s; s = s->next)
      ++n;
    std::printf("resume_ms=%.1f objects=%llu objects_per_s=%.0f ok=%d\n", init_ms,
                (unsigned long long)n, n / (init_ms / 1000), n == object_count);
    return n == object_count ? 0 : 1;
  }
  std::string shape = argc > 2 ? argv[2] : "strings";
  std::uint64_t n = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 100000;
  std::uint64_t x = 88172645463325252ull;
  auto rnd = [&] { x ^= x << 13, x ^= x >> 7, x ^= x << 17; return x; };
  if (shape == "strings") {
    for (std::uint64_t i = 0; i < n; ++i) {
      auto *e = new Entry{};
      e->key = "user:" + std::to_string(rnd() % 100000000);
      e->value = std::string(100, char('a' + rnd() % 26));
      e->expires_at = std::int64_t(1700000000000 + rnd() % 100000000);
      e->next = entries;
      entries = e;
      logical_payload += e->key.size() + e->value.size() + 8 + 8;
    }
  } else {
    for (std::uint64_t i = 0; i < n; ++i) {
      auto *s = new Series{};
      std::int64_t v = std::int64_t(rnd() % 1000000);
      for (int k = 0; k < 100; ++k)
        s->samples.push_back(v += std::int64_t(rnd() % 200) - 100); // a random walk
      for (int k = 0; k < 10; ++k)
        s->labels["label" + std::to_string(k)] = std::int64_t(rnd() % 1000);
      s->next = series;
      series = s;
      logical_payload += 100 * 8 + 8;
      for (auto &[key, val] : s->labels)
        logical_payload += key.size() + 8;
    }
  }
  object_count = n;
  auto t0 = Clock::now();
  std::uint64_t e = checksync::checkpoint();
  double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  if (!checksync::wait_durable(e))
    return 1;
  std::printf("shape=%s objects=%llu logical_payload=%llu checkpoint_ms=%.1f\n", shape.c_str(),
              (unsigned long long)n, (unsigned long long)logical_payload, ms);
}
