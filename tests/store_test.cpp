#include "store/store.h"
#include "schema/types.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace checksync::detail;
namespace fs = std::filesystem;

namespace {
std::string fresh_dir(const char *name) {
  fs::path p = fs::temp_directory_path() / ("checksync-store-test-" + std::to_string(getpid())) / name;
  fs::remove_all(p);
  return p.string();
}
} // namespace

TEST(DirStore, ABaseAndTheDeltasAfterItFormTheChain) {
  std::string dir = fresh_dir("chain");
  DirStore s(dir);
  s.write(1, true, "base1");
  s.write(2, false, "delta2");
  s.write(3, false, "delta3");
  ChainFiles c = find_chain(dir);
  EXPECT_EQ(c.base.epoch, 1u);
  ASSERT_EQ(c.deltas.size(), 2u);
  EXPECT_EQ(c.deltas[1].epoch, 3u);
  EXPECT_EQ(read_whole_file(c.deltas[1].path), "delta3");
  EXPECT_TRUE(s.has_base());
}

TEST(DirStore, ANewBasePrunesEverythingOlder) {
  std::string dir = fresh_dir("prune");
  DirStore s(dir);
  s.write(1, true, "base1");
  s.write(2, false, "delta2");
  s.write(3, false, "delta3");
  s.write(3, true, "base3"); // compacted 1..3
  s.write(4, false, "delta4");
  auto list = list_checkpoints(dir);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_TRUE(list[0].full);
  EXPECT_EQ(list[0].epoch, 3u);
  EXPECT_FALSE(list[1].full);
  EXPECT_EQ(list[1].epoch, 4u);
  EXPECT_EQ(find_chain(dir).deltas.size(), 1u);
}

TEST(DirStore, TemporaryFilesAreNotCheckpoints) {
  std::string dir = fresh_dir("tmp");
  DirStore s(dir);
  s.write(1, true, "one");
  std::ofstream(dir + "/ckpt-00000000000000000002.csk.tmp") << "torn";
  EXPECT_EQ(list_checkpoints(dir).size(), 1u);
  EXPECT_EQ(list_checkpoints(dir).back().epoch, 1u);
}

TEST(DirStore, OpeningRemovesTornTemporaryFiles) {
  std::string dir = fresh_dir("torn");
  fs::create_directories(dir);
  std::ofstream(dir + "/ckpt-00000000000000000009.csk.tmp") << "torn";
  DirStore s(dir);
  EXPECT_FALSE(fs::exists(dir + "/ckpt-00000000000000000009.csk.tmp"));
}

TEST(DirStore, SecondWriterIsRefused) {
  std::string dir = fresh_dir("lock");
  DirStore s(dir);
  try {
    DirStore t(dir);
    FAIL();
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("in use by another process"), std::string::npos);
  }
}

TEST(DirStore, MissingAndEmptyDirectoriesAreClearErrors) {
  std::string dir = fresh_dir("empty");
  try {
    find_chain(dir);
    FAIL();
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("no such file"), std::string::npos);
  }
  fs::create_directories(dir);
  try {
    find_chain(dir);
    FAIL();
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("no complete checkpoint"), std::string::npos);
  }
}

TEST(DirStore, WriteErrorsAreReported) {
  if (!fs::exists("/dev/full"))
    GTEST_SKIP() << "no /dev/full on this system to make write(2) fail with ENOSPC";
  std::string dir = fresh_dir("full");
  DirStore s(dir);
  fs::create_symlink("/dev/full", dir + "/ckpt-00000000000000000001.csk.tmp");
  EXPECT_THROW(s.write(1, true, std::string(1 << 20, 'x')), Error);
  EXPECT_TRUE(list_checkpoints(dir).empty());
}
