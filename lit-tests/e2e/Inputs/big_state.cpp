// A state of MB megabytes in persistent objects, checkpointed once and
// shipped to the backup (CHECKSYNC_BACKUP); the digest names the state.
//   big_state MB HOLD_MS   builds it, checkpoints, waits until the backup
//                          acknowledged, keeps running HOLD_MS, exits
//   (resumed) big_state    prints the digest of the state it was given
#include <checksync/checksync.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

struct [[checksync::persistent]] Block {
  std::uint64_t index;
  std::uint8_t data[65536 - 16];
  Block *next;
};
[[checksync::root]] Block *blocks = nullptr;

static std::uint64_t digest(std::uint64_t &count) {
  std::uint64_t h = 1469598103934665603ull;
  count = 0;
  for (Block *b = blocks; b; b = b->next, ++count) {
    h = (h ^ b->index) * 1099511628211ull;
    for (std::size_t i = 0; i + 8 <= sizeof b->data; i += 8) {
      std::uint64_t w;
      std::memcpy(&w, b->data + i, 8);
      h = (h ^ w) * 1099511628211ull;
    }
  }
  return h;
}

int main(int argc, char **argv) {
  checksync::init();
  std::uint64_t n = 0, d;
  if (checksync::resumed()) {
    d = digest(n);
    std::printf("resumed %llu blocks, digest %016llx\n", (unsigned long long)n,
                (unsigned long long)d);
    return 0;
  }
  if (argc < 3) {
    std::fprintf(stderr, "usage: big_state MB HOLD_MS\n");
    return 1;
  }
  std::uint64_t want = std::strtoull(argv[1], nullptr, 10) * (1u << 20) / sizeof(Block);
  std::uint64_t x = 88172645463325252ull;
  for (std::uint64_t i = 0; i < want; ++i) {
    Block *b = new Block;
    b->index = i;
    for (std::size_t k = 0; k + 8 <= sizeof b->data; k += 8) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17; // incompressible
      std::memcpy(b->data + k, &x, 8);
    }
    b->next = blocks;
    blocks = b;
  }
  d = digest(n);
  std::printf("built %llu blocks, digest %016llx\n", (unsigned long long)n, (unsigned long long)d);
  std::fflush(stdout);
  auto t0 = std::chrono::steady_clock::now();
  std::uint64_t e = checksync::checkpoint();
  bool ok = checksync::wait_durable(e);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - t0)
                .count();
  std::printf("epoch %llu (%.0f MB) durable=%d after %lld ms\n", (unsigned long long)e,
              double(checksync::last_checkpoint_stats().bytes) / 1e6, int(ok), (long long)ms);
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(argv[2])));
  return ok ? 0 : 3;
}
