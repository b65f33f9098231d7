// Several backups (replicas.h): an epoch is durable once a quorum of real
// `checksync-rt serve` processes acknowledged it, and not before; the
// parsers of the quorum, the backup list, the coordinator URL and the
// leader record refuse what they cannot honour.
#include "ha/etcd.h"
#include "ha/leadership.h"
#include "ha/replicas.h"
#include "ha/status_query.h"
#include "schema/types.h"
#include "serve_harness.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <thread>

using namespace serve_harness;

TEST(Replicas, QuorumBackupListAndCoordinatorAreChecked) {
  EXPECT_EQ(parse_quorum("majority", 3), 2u);
  EXPECT_EQ(parse_quorum("", 2), 2u) << "majority of two is both";
  EXPECT_EQ(parse_quorum("all", 3), 3u);
  EXPECT_EQ(parse_quorum("1", 3), 1u);
  EXPECT_THROW(parse_quorum("4", 3), Error);
  EXPECT_THROW(parse_quorum("0", 3), Error);
  EXPECT_THROW(parse_quorum("two", 3), Error);
  EXPECT_EQ(split_backups("a:1,b:2").size(), 2u);
  EXPECT_THROW(split_backups("a:1,,b:2"), Error);
  EXPECT_THROW(split_backups("a:1,a:1"), Error);
  EXPECT_EQ(etcd::parse_url("etcd://127.0.0.1:2379,h:1").size(), 2u);
  EXPECT_THROW(etcd::parse_url("http://127.0.0.1:2379"), Error);
  EXPECT_THROW(etcd::parse_url("etcd://127.0.0.1"), Error);
  EXPECT_THROW(etcd::parse_url("etcd://h:99999"), Error);
  LeaderRecord r = decode_leader(encode_leader({7, 500, "kv 1@h"}));
  EXPECT_EQ(r.generation, 7u);
  EXPECT_EQ(r.lease_ms, 500);
  EXPECT_EQ(r.holder, "kv 1@h");
  EXPECT_THROW(decode_leader("not json"), Error);
  EXPECT_THROW(decode_leader(R"({"generation":1,"lease_ms":0})"), Error);
  EXPECT_EQ(takeover_wait_ms(500), 650);
}

// Three backups, quorum 2: one down, epochs stay durable; two down, an
// epoch waits; one back, it becomes durable.
TEST(Replicas, AnEpochIsDurableOnceAQuorumHasIt) {
  std::vector<std::string> dirs, ports, list;
  for (int i = 0; i < 3; ++i) {
    dirs.push_back(temp_dir(("replica" + std::to_string(i)).c_str()));
    ports.push_back(free_port());
    list.push_back("127.0.0.1:" + ports.back());
  }
  std::vector<std::unique_ptr<Server>> s;
  for (int i = 0; i < 3; ++i) {
    s.push_back(std::make_unique<Server>(dirs[i], std::vector<std::string>{}, list[i]));
    ASSERT_FALSE(s.back()->port().empty()) << s.back()->log();
  }
  Replicas r(list, 2, shipper_options(ports[0]), /*coordinated=*/false);
  ASSERT_TRUE(r.submit(1, true, 0, 9, image(1, true, 0, 9)));
  EXPECT_TRUE(r.wait_acked(1));
  s[2]->stop(SIGKILL);
  ASSERT_TRUE(r.submit(2, false, 1, 9, image(2, false, 1, 9)));
  EXPECT_TRUE(r.wait_acked(2)) << "two of three have it";
  s[1]->stop(SIGKILL);
  ASSERT_TRUE(r.submit(3, false, 2, 9, image(3, false, 2, 9)));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(r.metrics().acked, 2u) << "one backup is not a quorum";
  EXPECT_FALSE(r.metrics().connected);
  s[1] = std::make_unique<Server>(dirs[1], std::vector<std::string>{}, list[1]);
  ASSERT_FALSE(s[1]->port().empty()) << s[1]->log();
  EXPECT_TRUE(r.wait_acked(3)) << "the restarted backup catches up";
  EXPECT_EQ(r.metrics().acked, 3u);
  EXPECT_TRUE(r.flush(5000));
  for (auto &d : dirs)
    std::filesystem::remove_all(d);
}

// The async bound: no answers while a checkpoint has waited longer than
// the lag limit for its quorum (a backup that confirms heartbeats but has
// not stored it does not count). Without the rule, the fault loop saw a new
// leader answer 1.3 s of writes that its backups never had.
TEST(Replicas, ACheckpointWaitingTooLongForItsQuorumEndsTheLease) {
  std::string dir = temp_dir("replica-lag");
  std::string port = free_port();
  Server s(dir, {}, "127.0.0.1:" + port);
  ASSERT_FALSE(s.port().empty()) << s.log();
  Replicas r({"127.0.0.1:" + port}, 1, shipper_options(port), /*coordinated=*/false,
             /*max_lag_ms=*/1000);
  r.taken(1, lease_clock_us());
  ASSERT_TRUE(r.submit(1, true, 0, 9, image(1, true, 0, 9)));
  EXPECT_TRUE(r.wait_acked(1));
  for (int i = 0; i < 100 && !r.lease_valid(); ++i) // the first LEASE
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(r.lease_valid());
  ::kill(s.pid(), SIGSTOP);
  r.taken(2, lease_clock_us()); // counted from here, before it is even submitted
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_TRUE(r.lease_valid()) << "within the limit";
  ASSERT_TRUE(r.submit(2, false, 1, 9, image(2, false, 1, 9)));
  std::this_thread::sleep_for(std::chrono::milliseconds(1400));
  EXPECT_FALSE(r.lease_valid()) << "epoch 2 waited 1.5 s for its quorum";
  ::kill(s.pid(), SIGCONT);
  EXPECT_TRUE(r.wait_acked(2));
  EXPECT_TRUE(r.lease_valid()) << "nothing overdue once it is stored";
  r.taken(3, lease_clock_us() - 5000000); // taken long ago, then never submitted
  EXPECT_FALSE(r.lease_valid());
  r.forget(3);
  EXPECT_TRUE(r.lease_valid()) << "a checkpoint that will never ship is not waited for";
  EXPECT_TRUE(r.flush(5000));
  std::filesystem::remove_all(dir);
}

// Elections rank a backup by the generation that stored its epoch. A newer
// primary that connected but stored nothing must not raise that rank, even
// after a restart of serve (it read DIR/generation, the newest admitted:
// such a backup could win with older epochs than another's).
TEST(Replicas, TheGenerationThatStoredTheEpochSurvivesARestart) {
  std::string dir = temp_dir("durable-generation");
  std::string port = free_port();
  auto s = std::make_unique<Server>(dir, std::vector<std::string>{}, "127.0.0.1:" + port);
  ASSERT_FALSE(s->port().empty()) << s->log();
  {
    ShipperOptions o = shipper_options(port);
    o.generation = 5;
    Shipper first(o);
    ASSERT_TRUE(first.submit(1, true, 0, 9, image(1, true, 0, 9)));
    ASSERT_TRUE(first.wait_acked(1));
    EXPECT_TRUE(first.flush(5000));
  }
  {
    ShipperOptions o = shipper_options(port);
    o.generation = 9; // admitted (DIR/generation becomes 9), stores nothing
    Shipper second(o);
    for (int i = 0; i < 200 && !second.metrics().connected; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_TRUE(second.metrics().connected);
    second.flush(0);
  }
  auto status = [&] {
    return nlohmann::json::parse(checksync::ha::query_status("127.0.0.1:" + port, kSecret, 3000));
  };
  EXPECT_EQ(status()["generation"], 9);
  EXPECT_EQ(status()["durable_generation"], 5);
  s.reset(); // stopped before the new one listens on its port
  s = std::make_unique<Server>(dir, std::vector<std::string>{}, "127.0.0.1:" + port);
  ASSERT_FALSE(s->port().empty()) << s->log();
  EXPECT_EQ(status()["generation"], 9);
  EXPECT_EQ(status()["durable_generation"], 5) << "after a restart too";
  s.reset();
  std::filesystem::remove_all(dir);
}
