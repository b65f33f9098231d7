// barrier_store: the write barrier's cost on a store-heavy loop. The same
// source is compiled with the CheckSync plugin (instrumented) and without it
// (plain C++, the attributes ignored); bench/run_incremental.sh runs both side
// by side. Each iteration picks a random object, does two stores and a load.
//   ./barrier_store OBJECTS ITERATIONS
// OBJECTS=1000 fits in cache; OBJECTS=4000000 (~400 MB) makes most writes
// random first writes over a large heap.
#include <checksync/checksync.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

struct [[checksync::persistent]] Account {
  std::int64_t balance;
  std::int64_t updates;
  std::int64_t pad[10];
  Account *next;
};

[[checksync::root]] Account *accounts = nullptr;

int main(int argc, char **argv) {
  checksync::init();
  std::uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000;
  std::uint64_t iters = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 50000000;
  std::vector<Account *> v(n);
  for (auto &a : v) {
    a = new Account{};
    a->next = accounts;
    accounts = a;
  }
  std::uint64_t x = 88172645463325252ull, sum = 0;
  std::vector<double> ns;
  for (int rep = 0; rep < 5; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; i < iters; ++i) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      Account *a = v[x % n];
      a->balance += std::int64_t(x & 15); // store
      a->updates = std::int64_t(i);       // store
      sum += std::uint64_t(a->pad[x & 7]); // load
    }
    ns.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0)
                     .count() / double(iters));
  }
  std::sort(ns.begin(), ns.end());
  std::printf("objects=%llu ns_per_iteration_median=%.3f (sum %llu)\n", (unsigned long long)n,
              ns[2], (unsigned long long)sum);
}
