// The backup server as a library (ha/backup.h): what it announces from its
// directory, the takeover hand-over, and fencing state across restarts,
// without running `checksync-rt serve`.
#include "format/format.h"
#include "ha/backup.h"
#include "ha/wire.h"
#include "heap/marker.h"
#include "test_types.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace checksync::detail;
using namespace checksync::ha;

namespace {

std::string temp_dir(const char *name) {
  auto d = std::filesystem::temp_directory_path() /
           (std::string("checksync-backup-") + name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(d);
  return d.string();
}

BackupOptions options(const std::string &dir) {
  BackupOptions o;
  o.dir = dir;
  o.secret = "test-secret";
  return o;
}

// One full checkpoint at `epoch`, as a primary would have stored it.
void store_full(const std::string &dir, std::uint64_t epoch) {
  auto &s = cstest::registered();
  cstest::Node *n = cstest::new_node(5);
  cstest::root_node = n;
  ImageInfo info;
  info.epoch = epoch;
  info.chain_id = 3;
  {
    DirStore store(dir);
    store.write(epoch, true, encode_full(info, s.types, s.roots,
                                         mark_from_roots(s.types, s.roots, 400000 + epoch)));
  }
  cstest::root_node = nullptr;
  delete n;
}

} // namespace

// With nothing durable a takeover would start the program empty: refused,
// and the backup keeps its directory.
TEST(Backup, NoTakeoverWithNothingDurable) {
  std::string dir = temp_dir("empty");
  Backup b(options(dir));
  EXPECT_FALSE(b.take_over().has_value());
  EXPECT_THROW(DirStore again(dir), Error) << "the backup still holds the directory";
  std::filesystem::remove_all(dir);
}

// A takeover resumes the stored epoch, fences every earlier primary by
// raising the generation on disk (so a restarted backup keeps fencing), and
// hands the directory over.
TEST(Backup, TakeoverRaisesTheGenerationAndReleasesTheDirectory) {
  std::string dir = temp_dir("takeover");
  store_full(dir, 4);
  write_generation(dir, 7);
  Backup b(options(dir));
  auto epoch = b.take_over();
  ASSERT_TRUE(epoch.has_value());
  EXPECT_EQ(*epoch, 4u);
  EXPECT_EQ(read_generation(dir), 8u);
  DirStore resumed(dir); // the lock is free for the resumed program
  EXPECT_TRUE(resumed.has_base());
  std::filesystem::remove_all(dir);
}

// Two backups cannot share a directory.
TEST(Backup, OneBackupPerDirectory) {
  std::string dir = temp_dir("lock");
  Backup first(options(dir));
  EXPECT_THROW(Backup second(options(dir)), Error);
  std::filesystem::remove_all(dir);
}

namespace {
// Plays the operator's side of a status query over a socketpair.
struct StatusExchange {
  Backup &b;
  int fds[2];
  std::thread server;
  explicit StatusExchange(Backup &backup) : b(backup) {
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    server = std::thread([this] { b.connection(fds[1]); });
  }
  ~StatusExchange() {
    ::close(fds[0]);
    server.join();
  }
  wire::Frame ask(const std::string &secret, wire::Nonce &backup_nonce, wire::Nonce &ours) {
    wire::Reader rd(fds[0]);
    wire::Frame f;
    std::string err;
    EXPECT_EQ(rd.next(f, 5000, err), wire::Reader::Result::Frame) << err;
    backup_nonce = wire::decode_challenge(f.payload).nonce;
    ours = wire::random_nonce();
    wire::StatusQuery q{ours, wire::status_query_mac(secret, backup_nonce, ours)};
    EXPECT_TRUE(wire::send_frame(fds[0], wire::Type::StatusQuery, wire::encode(q)));
    EXPECT_EQ(rd.next(f, 5000, err), wire::Reader::Result::Frame) << err;
    return f;
  }
};
} // namespace

// An authenticated status query gets the report, bound to both nonces; it is
// not a primary, so the generation stays; a wrong secret gets nothing.
TEST(Backup, StatusQueryIsAuthenticatedAndFencesNobody) {
  std::string dir = temp_dir("status");
  store_full(dir, 2);
  write_generation(dir, 5);
  Backup b(options(dir));
  b.set_status_report(
      [&b] { return "{\"generation\": " + std::to_string(b.status().generation) + "}"; });
  {
    StatusExchange x(b);
    wire::Nonce theirs, ours;
    wire::Frame f = x.ask("test-secret", theirs, ours);
    ASSERT_EQ(f.type, wire::Type::Status);
    wire::StatusReply r = wire::decode_status(f.payload);
    EXPECT_EQ(r.json, "{\"generation\": 5}");
    EXPECT_TRUE(
        wire::mac_equal(r.mac, wire::status_reply_mac("test-secret", ours, theirs, r.json)));
    EXPECT_FALSE(
        wire::mac_equal(r.mac, wire::status_reply_mac("test-secret", ours, theirs, r.json + " ")))
        << "the reply's MAC covers its text";
  }
  {
    StatusExchange x(b);
    wire::Nonce theirs, ours;
    wire::Frame f = x.ask("wrong", theirs, ours);
    ASSERT_EQ(f.type, wire::Type::Error);
    EXPECT_EQ(wire::decode_error(f.payload).code, wire::ErrorCode::Auth);
  }
  EXPECT_EQ(b.status().generation, 5u);
  EXPECT_EQ(read_generation(dir), 5u);
  std::filesystem::remove_all(dir);
}
