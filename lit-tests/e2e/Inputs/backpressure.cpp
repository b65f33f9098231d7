// Checkpoints ~1 MB of state 20 times while the backup is unreachable, and
// prints what last_checkpoint_stats() says about the shipping queue.
#include <checksync/checksync.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>

struct [[checksync::persistent]] Blob {
  std::int64_t words[120];
  Blob *next;
};
[[checksync::root]] Blob *blobs = nullptr;

int main() {
  checksync::init();
  for (int i = 0; i < 1000; ++i)
    blobs = new Blob{{i, i * 7, i * 13}, blobs};
  auto t0 = std::chrono::steady_clock::now();
  std::uint64_t first = 0, last = 0, max_queued = 0;
  for (int r = 0; r < 20; ++r) {
    for (Blob *b = blobs; b; b = b->next)
      b->words[5] = r; // every object changes: each checkpoint is ~1 MB
    last = checksync::checkpoint();
    if (!first)
      first = last;
    max_queued = std::max(max_queued, checksync::last_checkpoint_stats().backup_queued_bytes);
  }
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "checkpoints done\n"); // a drop must be reported before this, not at exit
  auto st = checksync::last_checkpoint_stats();
  std::printf("connected=%d dropped=%s max_queued_bytes=%s checkpoints_fast=%s\n",
              int(st.backup_connected), st.backup_dropped > 0 ? "yes" : "no",
              max_queued <= (std::uint64_t(2) << 20) ? "bounded" : "unbounded",
              ms < 5000 ? "yes" : "no");
  // A dropped epoch can never become durable: false, not a hang.
  std::printf("wait_durable(first)=%d\n", int(checksync::wait_durable(first)));
  std::fflush(stdout);
  std::_Exit(0); // do not wait for the absent backup at exit
}
