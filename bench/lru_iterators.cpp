// The cost of iterators in persistent state (docs/iterators.md): an LRU cache
// of N entries, R rounds of G gets (each splices its entry to the front) and
// a checkpoint per round, indexed either by list iterators (the list is then
// in node form and its owner is packed in the pause) or by keys only (the
// same list, plain; a get walks to its entry, so the index is not used for
// speed here: only the checkpoint cost is compared).
//   lru_iterators iterators|keys N R G
#include <checksync/checksync.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <list>
#include <random>
#include <string>
#include <unordered_map>

struct [[checksync::persistent]] Entry {
  std::int64_t key;
  std::string value;
};
struct [[checksync::persistent]] ByIterator {
  std::list<Entry> order;
  std::unordered_map<std::int64_t, std::list<Entry>::iterator> where;
};
struct [[checksync::persistent]] PlainEntry {
  std::int64_t key;
  std::string value;
};
struct [[checksync::persistent]] ByKey {
  std::list<PlainEntry> order; // never iterated from persistent state: plain form
  std::unordered_map<std::int64_t, std::int64_t> hits;
};
[[checksync::root]] ByIterator *by_iterator;
[[checksync::root]] ByKey *by_key;

template <class Get> void run(const char *mode, long rounds, long gets, Get get) {
  std::uint64_t bytes = 0, pause = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (long r = 0; r < rounds; ++r) {
    for (long g = 0; g < gets; ++g)
      get();
    std::uint64_t e = checksync::checkpoint();
    if (!checksync::wait_durable(e))
      std::exit(1);
    checksync::checkpoint_stats s = checksync::last_checkpoint_stats();
    bytes += s.bytes;
    pause += s.pause_us;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("mode=%s kb_per_checkpoint=%.0f pause_us_per_checkpoint=%.0f seconds=%.3f\n", mode,
              double(bytes) / 1024 / double(rounds), double(pause) / double(rounds), secs);
}

int main(int argc, char **argv) {
  checksync::init();
  if (argc != 5)
    return 2;
  const bool iterators = !std::strcmp(argv[1], "iterators");
  const long n = std::atol(argv[2]), rounds = std::atol(argv[3]), gets = std::atol(argv[4]);
  std::mt19937_64 rng(1);
  if (iterators) {
    by_iterator = new ByIterator;
    for (long i = 0; i < n; ++i) {
      by_iterator->order.push_front(Entry{i, std::string(32, char('a' + i % 26))});
      by_iterator->where[i] = by_iterator->order.begin();
    }
  } else {
    by_key = new ByKey;
    for (long i = 0; i < n; ++i)
      by_key->order.push_front(PlainEntry{i, std::string(32, char('a' + i % 26))});
  }
  checksync::wait_durable(checksync::checkpoint());
  if (iterators)
    run("iterators", rounds, gets, [&] {
      auto it = by_iterator->where.find(std::int64_t(rng() % std::uint64_t(n)));
      by_iterator->order.splice(by_iterator->order.begin(), by_iterator->order, it->second);
    });
  else
    run("keys", rounds, gets, [&] { // a splice from near the front: the same writes
      auto &o = by_key->order;
      o.splice(o.begin(), o, std::next(o.begin(), long(rng() % 8)));
      ++by_key->hits[std::int64_t(rng() % std::uint64_t(n))];
    });
}
