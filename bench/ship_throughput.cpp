// ship_throughput: how fast checkpoints travel to the backup on loopback.
// Every round writes one field of every object (so each delta holds the
// whole heap), checkpoints, and waits until the backup acknowledged the
// epoch (sent, fsync'ed there, acknowledged). Run under `checksync-rt run
// --backup HOST:PORT`; bench/run_ship_throughput.sh starts the backup too.
//   ./ship_throughput OBJECTS ROUNDS
#include <checksync/checksync.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

struct [[checksync::persistent]] Item {
  std::int64_t key, value;
  std::int64_t payload[14];
  Item *next;
};

[[checksync::root]] Item *items = nullptr;

int main(int argc, char **argv) {
  checksync::init();
  std::uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200000;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 10;
  std::vector<Item *> v(n);
  std::uint64_t x = 88172645463325252ull;
  for (std::uint64_t i = 0; i < n; ++i) {
    v[i] = new Item{std::int64_t(i), 0, {}, items};
    for (auto &p : v[i]->payload)
      x ^= x << 13, x ^= x >> 7, x ^= x << 17, p = std::int64_t(x); // incompressible
    items = v[i];
  }
  std::vector<double> mbps, ship_ms, pause_ms;
  for (int r = 0; r < rounds; ++r) {
    for (Item *it : v)
      it->value += 1;
    auto t0 = std::chrono::steady_clock::now();
    std::uint64_t e = checksync::checkpoint();
    auto t1 = std::chrono::steady_clock::now();
    if (!checksync::wait_durable(e)) {
      std::fprintf(stderr, "epoch %llu not durable\n", (unsigned long long)e);
      return 1;
    }
    auto t2 = std::chrono::steady_clock::now();
    auto st = checksync::last_checkpoint_stats();
    double ship = std::chrono::duration<double>(t2 - t1).count();
    if (r == 0)
      continue; // the first is full and pays for connecting
    mbps.push_back(double(st.bytes) / 1e6 / ship);
    ship_ms.push_back(ship * 1000);
    pause_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  auto med = [](std::vector<double> s) {
    std::sort(s.begin(), s.end());
    return s[s.size() / 2];
  };
  auto st = checksync::last_checkpoint_stats();
  std::printf("objects=%llu checkpoint_bytes=%llu checkpoint_ms_median=%.1f "
              "ship_and_ack_ms_median=%.1f ship_MBps_median=%.1f\n",
              (unsigned long long)n, (unsigned long long)st.bytes, med(pause_ms), med(ship_ms),
              med(mbps));
}
