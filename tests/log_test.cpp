// The runtime's log: levels filter, lines carry a timestamp and a label, and
// a registered output receives them instead of stderr.
#include "log/log.h"
#include "log/progress.h"

#include <gtest/gtest.h>

#include <regex>
#include <thread>
#include <string>
#include <vector>

namespace {
using checksync::log_level;
namespace log = checksync::detail::log;

struct Captured {
  std::vector<std::pair<log_level, std::string>> lines;
};

void capture(log_level level, const char *line, void *arg) {
  static_cast<Captured *>(arg)->lines.emplace_back(level, line);
}

struct LogTest : ::testing::Test {
  Captured got;
  log::Level before = log::level();
  void SetUp() override { checksync::set_log_output(capture, &got); }
  void TearDown() override {
    checksync::set_log_output(nullptr, nullptr);
    log::set_level(before);
  }
};

TEST_F(LogTest, LevelsFilterAndLabel) {
  log::set_level(log_level::warning);
  LOG_ERROR("e %d", 1);
  LOG_WARN("w %s", "two");
  LOG_INFO("not shown");
  LOG_DEBUG("not shown either");
  ASSERT_EQ(got.lines.size(), 2u);
  EXPECT_EQ(got.lines[0].first, log_level::error);
  std::regex stamp(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z checksync: )");
  EXPECT_TRUE(std::regex_search(got.lines[0].second, stamp)) << got.lines[0].second;
  EXPECT_NE(got.lines[0].second.find("checksync: error: e 1"), std::string::npos);
  EXPECT_NE(got.lines[1].second.find("checksync: warning: w two"), std::string::npos);

  log::set_level(log_level::debug);
  LOG_INFO("plain");
  LOG_DEBUG("detail");
  ASSERT_EQ(got.lines.size(), 4u);
  EXPECT_NE(got.lines[2].second.find("checksync: plain"), std::string::npos); // info: no label
  EXPECT_NE(got.lines[3].second.find("checksync: debug: detail"), std::string::npos);
}

TEST_F(LogTest, LongLinesAreCutAndMarked) {
  log::set_level(log_level::info);
  LOG_INFO("%s", std::string(10000, 'x').c_str());
  ASSERT_EQ(got.lines.size(), 1u);
  EXPECT_LT(got.lines[0].second.size(), 2048u);
  EXPECT_EQ(got.lines[0].second.substr(got.lines[0].second.size() - 3), "...");
}

// A long operation says where it is every period, and how long it took; a
// short one says nothing.
TEST_F(LogTest, ProgressOnlyForLongOperations) {
  log::set_level(log_level::info);
  using std::chrono::milliseconds;
  {
    log::Progress quick("quick", 100, log::Progress::Unit::Bytes, milliseconds(200));
    quick.done(100);
  }
  EXPECT_TRUE(got.lines.empty());
  {
    log::Progress slow("loading d", 4000000, log::Progress::Unit::Bytes, milliseconds(40));
    slow.step("reading the base");
    slow.done(1000000);
    std::this_thread::sleep_for(milliseconds(130));
  }
  ASSERT_GE(got.lines.size(), 3u);
  EXPECT_NE(got.lines[0].second.find("loading d: reading the base, 1 MB of 4 MB (25%), 0 s"),
            std::string::npos)
      << got.lines[0].second;
  EXPECT_NE(got.lines.back().second.find("loading d: finished in 0."), std::string::npos)
      << got.lines.back().second;
}

TEST(LogLevels, ParseNames) {
  log::Level l;
  EXPECT_TRUE(log::parse_level("warn", l));
  EXPECT_EQ(l, log_level::warning);
  EXPECT_TRUE(log::parse_level("debug", l));
  EXPECT_EQ(l, log_level::debug);
  EXPECT_FALSE(log::parse_level("loud", l));
  EXPECT_STREQ(log::level_name(log_level::error), "error");
}

} // namespace
