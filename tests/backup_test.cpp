// The backup server as a library (ha/backup.h): what it announces from its
// directory, the takeover hand-over, and fencing state across restarts,
// without running `checksync-rt serve`.
#include "format/format.h"
#include "ha/backup.h"
#include "ha/server.h"
#include "ha/wire.h"
#include "heap/marker.h"
#include "test_types.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
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
// serve's connection handling (ha/server.h) on a loopback port, its event
// loop on a thread of its own.
struct Served {
  asio::io_context io;
  std::string addr;
  std::unique_ptr<Server> server;
  std::thread loop;
  Served(Backup &b, ServerLimits limits = {}) {
    int lfd = wire::listen_on(wire::parse_endpoint("127.0.0.1:0"), &addr);
    server = std::make_unique<Server>(io, b, lfd, limits);
    loop = std::thread([this] { io.run(); });
  }
  ~Served() {
    io.stop();
    loop.join();
  }
  int connect() {
    std::string err;
    int fd = wire::connect_to(wire::parse_endpoint(addr), 2000, &err);
    EXPECT_GE(fd, 0) << err;
    return fd;
  }
};

// Plays the operator's side of a status query.
wire::Frame ask_status(int fd, const std::string &secret, wire::Nonce &backup_nonce,
                       wire::Nonce &ours) {
  wire::Reader rd(fd);
  wire::Frame f;
  std::string err;
  EXPECT_EQ(rd.next(f, 5000, err), wire::Reader::Result::Frame) << err;
  backup_nonce = wire::decode_challenge(f.payload).nonce;
  ours = wire::random_nonce();
  wire::StatusQuery q{ours, wire::status_query_mac(secret, backup_nonce, ours)};
  EXPECT_TRUE(wire::send_frame(fd, wire::Type::StatusQuery, wire::encode(q)));
  EXPECT_EQ(rd.next(f, 5000, err), wire::Reader::Result::Frame) << err;
  return f;
}

// True once the peer has closed fd (read returns 0) within timeout_ms.
bool closed_by_peer(int fd, int timeout_ms) {
  wire::Reader rd(fd);
  wire::Frame f;
  std::string err;
  for (;;) {
    auto r = rd.next(f, timeout_ms, err);
    if (r == wire::Reader::Result::Closed)
      return true;
    if (r != wire::Reader::Result::Frame) // timeout or garbage
      return false;
  }
}
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
  Served s(b);
  {
    int fd = s.connect();
    wire::Nonce theirs, ours;
    wire::Frame f = ask_status(fd, "test-secret", theirs, ours);
    ASSERT_EQ(f.type, wire::Type::Status);
    wire::StatusReply r = wire::decode_status(f.payload);
    EXPECT_EQ(r.json, "{\"generation\": 5}");
    EXPECT_TRUE(
        wire::mac_equal(r.mac, wire::status_reply_mac("test-secret", ours, theirs, r.json)));
    EXPECT_FALSE(
        wire::mac_equal(r.mac, wire::status_reply_mac("test-secret", ours, theirs, r.json + " ")))
        << "the reply's MAC covers its text";
    ::close(fd);
  }
  {
    int fd = s.connect();
    wire::Nonce theirs, ours;
    wire::Frame f = ask_status(fd, "wrong", theirs, ours);
    ASSERT_EQ(f.type, wire::Type::Error);
    EXPECT_EQ(wire::decode_error(f.payload).code, wire::ErrorCode::Auth);
    ::close(fd);
  }
  EXPECT_EQ(b.status().generation, 5u);
  EXPECT_EQ(read_generation(dir), 5u);
  std::filesystem::remove_all(dir);
}

int threads_now() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("Threads:", 0) == 0)
      return std::stoi(line.substr(8));
  return -1;
}

// A peer that never authenticates is closed at the deadline.
TEST(Backup, SilentPeerIsClosedAtTheHandshakeDeadline) {
  std::string dir = temp_dir("silent");
  Backup b(options(dir));
  ServerLimits limits;
  limits.handshake_timeout_ms = 200;
  Served s(b, limits);
  int fd = s.connect();
  auto t0 = now_ms();
  EXPECT_TRUE(closed_by_peer(fd, 5000));
  EXPECT_GE(now_ms() - t0, 150);
  ::close(fd);
  std::filesystem::remove_all(dir);
}

// A flood of peers that never authenticate holds at most max_handshakes
// sockets (the oldest go first) and no thread, and an operator with the
// secret still gets in.
TEST(Backup, UnauthenticatedFloodIsBoundedAndTakesNoThread) {
  std::string dir = temp_dir("flood");
  Backup b(options(dir));
  b.set_status_report([] { return std::string("{}"); });
  ServerLimits limits;
  limits.max_handshakes = 8;
  limits.handshake_timeout_ms = 60000; // only eviction closes them here
  Served s(b, limits);
  int threads = threads_now();
  std::vector<int> flood;
  for (int i = 0; i < 40; ++i)
    flood.push_back(s.connect());
  int fd = s.connect();
  wire::Nonce theirs, ours;
  EXPECT_EQ(ask_status(fd, "test-secret", theirs, ours).type, wire::Type::Status);
  ::close(fd);
  EXPECT_EQ(threads_now(), threads);
  int closed = 0;
  for (int f : flood)
    closed += closed_by_peer(f, 100);
  EXPECT_GE(closed, 40 - 8) << "all but the newest max_handshakes were closed";
  EXPECT_LE(closed, 40 - 8 + 1);
  for (int f : flood)
    ::close(f);
  std::filesystem::remove_all(dir);
}
