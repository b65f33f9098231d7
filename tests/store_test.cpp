#include "store.h"
#include "types.h"

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

TEST(DirStore, WritesNamedFilesAndKeepsTheNewestTwo) {
  std::string dir = fresh_dir("keep");
  DirStore s(dir);
  for (int e = 1; e <= 5; ++e)
    s.write(e, "payload" + std::to_string(e));
  auto list = list_checkpoints(dir);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].epoch, 4u);
  EXPECT_EQ(list[1].epoch, 5u);
  EXPECT_EQ(read_whole_file(list[1].path), "payload5");
  EXPECT_EQ(newest_checkpoint(dir), list[1].path);
}

TEST(DirStore, TemporaryFilesAreNotCheckpoints) {
  std::string dir = fresh_dir("tmp");
  DirStore s(dir);
  s.write(1, "one");
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
    newest_checkpoint(dir);
    FAIL();
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("no such file"), std::string::npos);
  }
  fs::create_directories(dir);
  try {
    newest_checkpoint(dir);
    FAIL();
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("no complete checkpoint"), std::string::npos);
  }
}

TEST(DirStore, WriteErrorsAreReported) {
  if (!fs::exists("/dev/full"))
    GTEST_SKIP();
  std::string dir = fresh_dir("full");
  DirStore s(dir);
  fs::create_symlink("/dev/full", dir + "/ckpt-00000000000000000001.csk.tmp");
  EXPECT_THROW(s.write(1, std::string(1 << 20, 'x')), Error);
  EXPECT_TRUE(list_checkpoints(dir).empty());
}
