// A tiny service for bad-input tests. -DVARIANT=1 changes a field's type,
// -DVARIANT=2 adds a field, -DVARIANT=3 has no persistent state at all.
#include <checksync/checksync.h>

#include <cstdint>
#include <cstdio>

#if VARIANT != 3
struct [[checksync::persistent]] Counter {
#if VARIANT == 1
  double hits;
#else
  std::int64_t hits;
#endif
#if VARIANT == 2
  std::int32_t misses;
#endif
  Counter *next;
};
[[checksync::root]] Counter *counters = nullptr;
#endif

int main(int argc, char **argv) {
  checksync::init();
#if VARIANT != 3
  if (checksync::resumed()) {
    std::printf("resumed hits=%lld\n", (long long)counters->hits);
    return 0;
  }
  counters = new Counter{};
  counters->hits = 41;
  counters->next = new Counter{};
  std::uint64_t e = checksync::checkpoint();
  std::printf("epoch %llu durable %d\n", (unsigned long long)e, checksync::wait_durable(e));
#else
  std::printf("resumed %d\n", checksync::resumed());
#endif
  return 0;
}
