// Reading a chain while its directory changes: a running serve, or the
// program's compactor, replaces a chain by a new full checkpoint (or a merged
// base) and deletes the old files. A resume then must read the directory's
// state, old or new, never fail on a file that vanished nor stop early at
// one (the matrix's backup mode hit "ckpt-...03.csk: No such file or
// directory" in `checksync-rt resume` while serve stored a new full).
#include "serve_harness.h"
#include "store/chain.h"
#include "store/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

using namespace serve_harness;

TEST(Chain, ReadsWhileTheChainIsReplacedSeeOneWholeState) {
  std::string dir = temp_dir("chain-race");
  std::atomic<std::uint64_t> written{0};
  std::atomic<bool> stop{false};
  {
    DirStore store(dir);
    store.write(1, true, image(1, true, 0, 7));
    written = 1;
    std::thread writer([&] {
      // A new full every 4 epochs: each prunes every older file.
      for (std::uint64_t e = 2; !stop && e < 100000; ++e) {
        bool full = e % 4 == 1;
        store.write(e, full, image(e, full, e - 1, 7));
        written = e;
        std::this_thread::sleep_for(std::chrono::microseconds(200)); // readers get a turn
      }
    });
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
    for (int reads = 0; std::chrono::steady_clock::now() < until; ++reads) {
      std::uint64_t before = written;
      std::string note;
      std::uint64_t checked = 0, loaded = 0;
      ASSERT_NO_THROW(checked = check_chain(dir, &note)) << "read " << reads;
      ASSERT_NO_THROW(loaded = load_chain(dir, &note)->info.epoch) << "read " << reads;
      EXPECT_GE(checked, before) << "an older state than the directory held: " << note;
      EXPECT_GE(loaded, before) << "an older state than the directory held: " << note;
    }
    stop = true;
    writer.join();
  }
  std::filesystem::remove_all(dir);
}
