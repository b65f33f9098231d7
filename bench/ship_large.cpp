// ship_large: a state of MB megabytes (default 4096) in persistent objects
// of 64 KiB, checkpointed once and shipped to a backup (run under `checksync-rt
// run --backup HOST:PORT`; bench/run_ship_large.sh starts a `serve
// --takeover` too). Prints the time to checkpoint() and to the backup's
// acknowledgement, and this process's peak RSS. Then it keeps running HOLD_MS
// (heartbeats flow) so the script can read the backup's numbers. Resumed (a
// takeover that should not happen) it prints "resumed" and exits.
//   ./ship_large [MB] [HOLD_MS]
#include <checksync/checksync.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

struct [[checksync::persistent]] Block {
  std::uint64_t index;
  std::uint8_t data[65536 - 16];
  Block *next;
};
[[checksync::root]] Block *blocks = nullptr;

static std::string peak_rss() {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("VmHWM:", 0) == 0)
      return line.substr(6).erase(0, line.substr(6).find_first_not_of(" \t"));
  return "?";
}

int main(int argc, char **argv) {
  checksync::init();
  if (checksync::resumed()) {
    std::printf("resumed\n");
    return 0;
  }
  std::uint64_t mb = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 4096;
  int hold_ms = argc > 2 ? std::atoi(argv[2]) : 1000;
  std::uint64_t n = mb * (1u << 20) / sizeof(Block);
  std::uint64_t x = 88172645463325252ull;
  for (std::uint64_t i = 0; i < n; ++i) {
    Block *b = new Block;
    b->index = i;
    for (std::size_t k = 0; k + 8 <= sizeof b->data; k += 8) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17; // incompressible
      std::memcpy(b->data + k, &x, 8);
    }
    b->next = blocks;
    blocks = b;
  }
  auto t0 = std::chrono::steady_clock::now();
  std::uint64_t e = checksync::checkpoint();
  auto t1 = std::chrono::steady_clock::now();
  bool ok = checksync::wait_durable(e);
  auto t2 = std::chrono::steady_clock::now();
  auto ms = [](auto d) { return (long long)std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  std::printf("state_MB=%llu checkpoint_bytes=%llu checkpoint_ms=%lld ack_ms_after_checkpoint=%lld "
              "durable=%d primary_peak_rss=%s\n",
              (unsigned long long)mb, (unsigned long long)checksync::last_checkpoint_stats().bytes,
              ms(t1 - t0), ms(t2 - t1), int(ok), peak_rss().c_str());
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::milliseconds(hold_ms));
  return ok ? 0 : 1;
}
