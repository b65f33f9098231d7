// `checksync-rt serve` against hand-made primaries speaking the protocol:
// authentication, acknowledgements only after storing, duplicated,
// reordered, corrupted and truncated frames, corrupt checkpoint bodies,
// fencing of a stale generation, and restarts of the backup; stores with a
// missing, renamed or corrupt file acknowledge only what a resume restores.
#include "format/format.h"
#include "ha/shipper.h"
#include "ha/wire.h"
#include "schema/types.h"
#include "serve_harness.h"
#include "store/chain.h"
#include "store/store.h"
#include "test_types.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

using namespace checksync::detail;
namespace w = checksync::detail::wire;

using namespace serve_harness;

namespace {

// A primary made by hand.
struct Client {
  int fd = -1;
  std::unique_ptr<w::Reader> rd;
  w::Welcome welcome{};
  std::unique_ptr<w::Session> session; // after WELCOME: every frame is sealed
  ~Client() {
    if (fd >= 0)
      ::close(fd);
  }
  bool connect(const std::string &port) {
    std::string err;
    fd = w::connect_to({"127.0.0.1", port}, 2000, &err);
    rd = std::make_unique<w::Reader>(fd);
    return fd >= 0;
  }
  // The backup's next frame, LEASE answers to heartbeats skipped (counted).
  w::Frame read() {
    for (;;) {
      w::Frame f;
      std::string err;
      auto r = rd->next(f, 5000, err);
      if (r != w::Reader::Result::Frame)
        throw Error("no frame: " + err);
      if (session && !session->open(f, err))
        throw Error("from the backup: " + err);
      if (f.type != w::Type::Lease)
        return f;
      leases.push_back(w::decode_lease(f.payload));
    }
  }
  std::vector<w::Lease> leases;
  // The next frame this primary sends (sealed once it is welcomed).
  std::string frame(w::Type type, const std::string &payload) {
    return session ? session->seal(type, payload) : w::encode_frame(type, payload);
  }
  bool closed() { // the server closed the connection (after any pending frames)
    w::Frame f;
    std::string err;
    for (;;) {
      auto r = rd->next(f, 5000, err);
      if (r == w::Reader::Result::Closed)
        return true;
      if (r != w::Reader::Result::Frame)
        return false;
    }
  }
  // Returns the server's answer to AUTH (WELCOME or ERROR).
  w::Frame hello(const std::string &secret, std::uint64_t generation) {
    w::Frame ch = read();
    EXPECT_EQ(ch.type, w::Type::Challenge);
    w::Challenge c = w::decode_challenge(ch.payload);
    w::Auth a{w::random_nonce(), generation, "serve_test", {}};
    a.mac = w::primary_mac(secret, c.nonce, a.nonce, generation);
    w::send_frame(fd, w::Type::Auth, w::encode(a));
    w::Frame f = read();
    if (f.type == w::Type::Welcome) {
      welcome = w::decode_welcome(f.payload);
      EXPECT_TRUE(w::mac_equal(welcome.mac,
                               w::backup_mac(secret, a.nonce, c.nonce, welcome.generation,
                                             welcome.durable, welcome.chain_id)));
      session = std::make_unique<w::Session>(w::Session::Side::Primary, secret, c.nonce, a.nonce,
                                             welcome.generation);
    }
    return f;
  }
  void send_checkpoint(std::uint64_t epoch, std::uint64_t prev, bool full, const std::string &b,
                       std::size_t chunk = 1000, std::uint64_t chain = 0) {
    w::send_all(fd, checkpoint_frames(epoch, prev, full, b, chunk, chain));
  }
  // A checkpoint as the primary sends it: a head, then chunks (each frame
  // sealed in turn: build frames in the order they are sent).
  std::string checkpoint_frames(std::uint64_t epoch, std::uint64_t prev, bool full,
                                const std::string &b, std::size_t chunk = 1000,
                                std::uint64_t chain = 0, bool heartbeats = false) {
    std::string out =
        frame(w::Type::Checkpoint, w::encode_checkpoint_head({epoch, prev, full, b.size(), chain}));
    for (std::size_t off = 0; off < b.size(); off += chunk) {
      if (heartbeats)
        out += frame(w::Type::Heartbeat, w::encode_heartbeat(off + 1));
      out += frame(w::Type::Chunk, w::encode_chunk_head(off) + b.substr(off, chunk));
    }
    return out;
  }
};

// A checkpoint file around `body`: a valid envelope (magic, version,
// length, checksum) whatever the body holds.
std::string envelope(const std::string &body) {
  std::string out = image(1, true, 0).substr(0, kHeaderBytes) + body;
  std::uint64_t trailer[2] = {body.size(), XXH3_64bits(out.data(), out.size())};
  out.append(reinterpret_cast<const char *>(trailer), sizeof trailer);
  return out;
}

// A store holding base 1 and deltas 2..last, as a backup writes them.
void make_store(const std::string &dir, std::uint64_t last, std::uint64_t chain = 0) {
  DirStore store(dir);
  store.write(1, true, image(1, true, 0, chain));
  for (std::uint64_t e = 2; e <= last; ++e)
    store.write(e, false, image(e, false, e - 1, chain));
}

// Waits (bounded) for the shipper's full request, which it holds back
// while a refusal's pause runs.
std::optional<std::uint64_t> full_request(Shipper &sh) {
  std::optional<std::uint64_t> floor;
  for (int i = 0; i < 1000 && !floor; ++i) {
    floor = sh.take_full_request();
    if (!floor)
      ::usleep(10000);
  }
  return floor;
}

std::string delta_path(const std::string &dir, std::uint64_t epoch) {
  char name[64];
  std::snprintf(name, sizeof name, "/delta-%020llu.csk", (unsigned long long)epoch);
  return dir + name;
}

} // namespace

TEST(Serve, WrongSecretIsRefusedAndLogged) {
  std::string dir = temp_dir("auth");
  Server s(dir);
  ASSERT_FALSE(s.port().empty()) << s.log();
  Client c;
  ASSERT_TRUE(c.connect(s.port()));
  w::Frame f = c.hello("not-the-secret", 0);
  ASSERT_EQ(f.type, w::Type::Error);
  EXPECT_EQ(w::decode_error(f.payload).code, w::ErrorCode::Auth);
  EXPECT_TRUE(c.closed());
  EXPECT_NE(s.log().find("authentication failed"), std::string::npos) << s.log();
}

TEST(Serve, AcksAfterStoringAndHandlesDuplicatesGapsAndDamage) {
  std::string dir = temp_dir("acks");
  Server s(dir);
  ASSERT_FALSE(s.port().empty()) << s.log();
  Client c;
  ASSERT_TRUE(c.connect(s.port()));
  ASSERT_EQ(c.hello(kSecret, 0).type, w::Type::Welcome);
  EXPECT_EQ(c.welcome.generation, 1u);
  EXPECT_EQ(c.welcome.durable, 0u);

  c.send_checkpoint(1, 0, true, image(1, true, 0));
  w::Frame f = c.read();
  ASSERT_EQ(f.type, w::Type::Ack);
  EXPECT_EQ(w::decode_ack(f.payload), 1u);
  EXPECT_TRUE(std::filesystem::exists(dir + "/ckpt-00000000000000000001.csk"));

  c.send_checkpoint(2, 1, false, image(2, false, 1));
  EXPECT_EQ(w::decode_ack(c.read().payload), 2u);
  // Duplicated: acknowledged again, nothing rewritten.
  c.send_checkpoint(2, 1, false, image(2, false, 1));
  EXPECT_EQ(w::decode_ack(c.read().payload), 2u);
  // Reordered / a gap: a delta that does not follow what is stored.
  c.send_checkpoint(4, 3, false, image(4, false, 3));
  f = c.read();
  ASSERT_EQ(f.type, w::Type::NeedFull);
  EXPECT_EQ(w::decode_need_full(f.payload).durable, 2u);
  // A full checkpoint restarts the chain.
  c.send_checkpoint(5, 0, true, image(5, true, 0));
  EXPECT_EQ(w::decode_ack(c.read().payload), 5u);

  // A corrupt checkpoint body inside a valid frame: refused, not stored.
  std::string bad = image(6, false, 5);
  bad[bad.size() / 2] ^= 1;
  c.send_checkpoint(6, 5, false, bad);
  f = c.read();
  ASSERT_EQ(f.type, w::Type::Error);
  EXPECT_EQ(w::decode_error(f.payload).code, w::ErrorCode::Protocol);
  EXPECT_TRUE(c.closed());
  EXPECT_FALSE(std::filesystem::exists(dir + "/delta-00000000000000000006.csk"));

  // A frame with a flipped payload byte: refused, connection closed.
  Client d;
  ASSERT_TRUE(d.connect(s.port()));
  ASSERT_EQ(d.hello(kSecret, 1).type, w::Type::Welcome);
  EXPECT_EQ(d.welcome.durable, 5u);
  std::string frame = d.checkpoint_frames(6, 5, false, image(6, false, 5));
  frame[frame.size() - 3] ^= 0x10;
  w::send_all(d.fd, frame);
  f = d.read();
  ASSERT_EQ(f.type, w::Type::Error);
  EXPECT_TRUE(d.closed());

  // A truncated frame, then the primary dies: nothing stored.
  Client e;
  ASSERT_TRUE(e.connect(s.port()));
  ASSERT_EQ(e.hello(kSecret, 1).type, w::Type::Welcome);
  frame = e.checkpoint_frames(6, 5, false, image(6, false, 5));
  w::send_all(e.fd, std::string_view(frame).substr(0, frame.size() / 2));
  ::close(e.fd);
  e.fd = -1;

  Client g;
  ASSERT_TRUE(g.connect(s.port()));
  ASSERT_EQ(g.hello(kSecret, 1).type, w::Type::Welcome);
  EXPECT_EQ(g.welcome.durable, 5u) << "damaged frames stored nothing";
  EXPECT_FALSE(std::filesystem::exists(dir + "/delta-00000000000000000006.csk"));
  std::filesystem::remove_all(dir);
}

TEST(Serve, StaleGenerationIsFencedAndFencingSurvivesRestarts) {
  std::string dir = temp_dir("fence");
  {
    Server s(dir);
    ASSERT_FALSE(s.port().empty()) << s.log();
    Client old;
    ASSERT_TRUE(old.connect(s.port()));
    ASSERT_EQ(old.hello(kSecret, 0).type, w::Type::Welcome);
    EXPECT_EQ(old.welcome.generation, 1u);
    old.send_checkpoint(1, 0, true, image(1, true, 0));
    EXPECT_EQ(w::decode_ack(old.read().payload), 1u);

    Client fresh; // a new incarnation takes over the backup
    ASSERT_TRUE(fresh.connect(s.port()));
    ASSERT_EQ(fresh.hello(kSecret, 0).type, w::Type::Welcome);
    EXPECT_EQ(fresh.welcome.generation, 2u);
    // The old connection is told and closed.
    w::Frame f = old.read();
    ASSERT_EQ(f.type, w::Type::Error);
    EXPECT_EQ(w::decode_error(f.payload).code, w::ErrorCode::Fenced);
  }
  // After a restart of the backup, generation 1 is still stale.
  Server s(dir);
  ASSERT_FALSE(s.port().empty()) << s.log();
  Client stale;
  ASSERT_TRUE(stale.connect(s.port()));
  w::Frame f = stale.hello(kSecret, 1);
  ASSERT_EQ(f.type, w::Type::Error);
  EXPECT_EQ(w::decode_error(f.payload).code, w::ErrorCode::Fenced);
  Client current;
  ASSERT_TRUE(current.connect(s.port()));
  ASSERT_EQ(current.hello(kSecret, 2).type, w::Type::Welcome);
  EXPECT_EQ(current.welcome.durable, 1u) << "stored epochs survive the restart";
  std::filesystem::remove_all(dir);
}

TEST(Serve, FullDiskIsReportedAndStoredEpochsStayIntact) {
  std::string dir = temp_dir("enospc");
  Server s(dir, {"CHECKSYNC_TEST_ENOSPC_AFTER=2"});
  ASSERT_FALSE(s.port().empty()) << s.log();
  Client c;
  ASSERT_TRUE(c.connect(s.port()));
  ASSERT_EQ(c.hello(kSecret, 0).type, w::Type::Welcome);
  c.send_checkpoint(1, 0, true, image(1, true, 0));
  EXPECT_EQ(w::decode_ack(c.read().payload), 1u);
  c.send_checkpoint(2, 1, false, image(2, false, 1));
  EXPECT_EQ(w::decode_ack(c.read().payload), 2u);
  c.send_checkpoint(3, 2, false, image(3, false, 2));
  w::Frame f = c.read();
  ASSERT_EQ(f.type, w::Type::Error);
  w::ErrorMsg e = w::decode_error(f.payload);
  EXPECT_EQ(e.code, w::ErrorCode::Storage);
  EXPECT_NE(e.message.find("No space left on device"), std::string::npos) << e.message;
  EXPECT_NE(s.log().find("cannot store epoch 3"), std::string::npos) << s.log();
  // Nothing torn is left behind, and what was acknowledged is all there.
  auto files = list_checkpoints(dir);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files.back().epoch, 2u);
  for (auto &entry : std::filesystem::directory_iterator(dir))
    EXPECT_EQ(entry.path().string().find(".tmp"), std::string::npos) << entry.path();
  std::filesystem::remove_all(dir);
}

// The backup announces and acknowledges what a resume from its store would
// restore: with a middle delta missing or renamed, resume stops before it,
// and so does the backup; only a full checkpoint repairs the chain, and the
// files a resume ignored are removed so that they can never link to it.
TEST(Serve, BrokenChainAnnouncesTheEpochBeforeTheGapAndAsksForAFull) {
  for (bool rename : {false, true}) {
    SCOPED_TRACE(rename ? "renamed" : "deleted");
    std::string dir = temp_dir(rename ? "gap-renamed" : "gap-deleted");
    make_store(dir, 12);
    if (rename)
      std::filesystem::rename(delta_path(dir, 7), delta_path(dir, 30));
    else
      std::filesystem::remove(delta_path(dir, 7));
    std::string note;
    ASSERT_EQ(load_chain(dir, &note)->info.epoch, 6u) << "what a resume restores";

    Server s(dir);
    ASSERT_FALSE(s.port().empty()) << s.log();
    Client c;
    ASSERT_TRUE(c.connect(s.port()));
    ASSERT_EQ(c.hello(kSecret, 0).type, w::Type::Welcome);
    EXPECT_EQ(c.welcome.durable, 6u) << s.log();
    EXPECT_NE(s.log().find("broken after epoch 6"), std::string::npos) << s.log();
    // Neither the primary's next delta nor one that follows the announced
    // epoch is stored: the files after the gap could link to it.
    c.send_checkpoint(13, 12, false, image(13, false, 12));
    w::Frame f = c.read();
    ASSERT_EQ(f.type, w::Type::NeedFull);
    EXPECT_EQ(w::decode_need_full(f.payload).durable, 6u);
    c.send_checkpoint(7, 6, false, image(7, false, 6));
    ASSERT_EQ(c.read().type, w::Type::NeedFull);
    // A full checkpoint starts a new chain; nothing of the old one is left.
    c.send_checkpoint(13, 0, true, image(13, true, 0));
    EXPECT_EQ(w::decode_ack(c.read().payload), 13u);
    auto files = list_checkpoints(dir);
    ASSERT_EQ(files.size(), 1u);
    EXPECT_TRUE(files[0].full);
    c.send_checkpoint(14, 13, false, image(14, false, 13));
    EXPECT_EQ(w::decode_ack(c.read().payload), 14u);
    EXPECT_EQ(load_chain(dir, &note)->info.epoch, 14u);
    std::filesystem::remove_all(dir);
  }
}

TEST(Serve, CorruptBaseStillAcceptsANewFull) {
  std::string dir = temp_dir("corrupt-base");
  make_store(dir, 3);
  std::string base = dir + "/ckpt-00000000000000000001.csk";
  std::string bytes = read_whole_file(base);
  bytes[20] ^= 1;
  std::FILE *out = std::fopen(base.c_str(), "wb");
  std::fwrite(bytes.data(), 1, bytes.size(), out);
  std::fclose(out);

  Server s(dir);
  ASSERT_FALSE(s.port().empty()) << "serve must start to be repaired:\n" << s.log();
  Client c;
  ASSERT_TRUE(c.connect(s.port()));
  ASSERT_EQ(c.hello(kSecret, 0).type, w::Type::Welcome);
  EXPECT_EQ(c.welcome.durable, 0u) << "nothing here can be resumed";
  EXPECT_NE(s.log().find("checksum mismatch"), std::string::npos) << s.log();
  c.send_checkpoint(4, 3, false, image(4, false, 3));
  ASSERT_EQ(c.read().type, w::Type::NeedFull);
  c.send_checkpoint(5, 0, true, image(5, true, 0));
  EXPECT_EQ(w::decode_ack(c.read().payload), 5u);
  std::string note;
  EXPECT_EQ(load_chain(dir, &note)->info.epoch, 5u);
  EXPECT_EQ(list_checkpoints(dir).size(), 1u);
  std::filesystem::remove_all(dir);
}

// A checkpoint whose envelope is intact (frame and file checksums match) but
// whose contents a resume would refuse is not stored, and a full one does not
// replace the chain it would have pruned.
TEST(Serve, UndecodableCheckpointsAreRefusedAndOlderFilesKept) {
  std::string dir = temp_dir("undecodable");
  Server s(dir);
  ASSERT_FALSE(s.port().empty()) << s.log();
  {
    Client c;
    ASSERT_TRUE(c.connect(s.port()));
    ASSERT_EQ(c.hello(kSecret, 0).type, w::Type::Welcome);
    c.send_checkpoint(1, 0, true, image(1, true, 0));
    EXPECT_EQ(w::decode_ack(c.read().payload), 1u);
    c.send_checkpoint(2, 1, false, image(2, false, 1));
    EXPECT_EQ(w::decode_ack(c.read().payload), 2u);
  }
  // Not msgpack of a checkpoint at all.
  std::string garbage = envelope(std::string("\x93\x01\x02\x03", 4));
  // Parses, but its root refers to an object it does not contain.
  cstest::root_node = cstest::new_node(9);
  std::string dangling = image(3, true, 0);
  cstest::root_node = nullptr;
  // Its frame head says delta 3, the file inside is epoch 4.
  std::string mislabelled = image(4, false, 2);
  struct Case { const char *name; bool full; std::string bytes; };
  for (const Case &k : {Case{"garbage full", true, garbage}, Case{"dangling full", true, dangling},
                        Case{"garbage delta", false, garbage},
                        Case{"mislabelled delta", false, mislabelled}}) {
    SCOPED_TRACE(k.name);
    Client c;
    ASSERT_TRUE(c.connect(s.port()));
    ASSERT_EQ(c.hello(kSecret, 1).type, w::Type::Welcome);
    EXPECT_EQ(c.welcome.durable, 2u);
    c.send_checkpoint(3, k.full ? 0 : 2, k.full, k.bytes);
    w::Frame f = c.read();
    ASSERT_EQ(f.type, w::Type::Error);
    EXPECT_EQ(w::decode_error(f.payload).code, w::ErrorCode::Protocol);
    EXPECT_TRUE(c.closed());
    auto files = list_checkpoints(dir);
    ASSERT_EQ(files.size(), 2u) << "epochs 1 and 2 kept";
    EXPECT_EQ(files.back().epoch, 2u);
  }
  std::filesystem::remove_all(dir);
}

// A checkpoint travels as a head and chunks, with heartbeats between them; a
// new head before the last chunk abandons the checkpoint cut short.
TEST(Serve, ChunkedCheckpointsHeartbeatsAndAbandonedOnes) {
  std::string dir = temp_dir("chunks");
  Server s(dir, {"CHECKSYNC_TEST_MAX_FRAME=512"});
  ASSERT_FALSE(s.port().empty()) << s.log();
  Client c;
  ASSERT_TRUE(c.connect(s.port()));
  ASSERT_EQ(c.hello(kSecret, 0).type, w::Type::Welcome);
  std::string base = image(1, true, 0);
  // A heartbeat before every chunk.
  w::send_all(c.fd, c.checkpoint_frames(1, 0, true, base, 100, 0, /*heartbeats=*/true));
  EXPECT_EQ(w::decode_ack(c.read().payload), 1u);
  // Each heartbeat is answered by a LEASE echoing its stamp; this serve never
  // takes over (no --takeover): timeout 0.
  ASSERT_FALSE(c.leases.empty());
  EXPECT_EQ(c.leases[0].stamp_us, 1u);
  EXPECT_EQ(c.leases[0].takeover_ms, 0u);
  // Half of delta 2, then delta 2 again from its head: the first is dropped.
  std::string delta = image(2, false, 1);
  std::string cut =
      c.frame(w::Type::Checkpoint, w::encode_checkpoint_head({2, 1, false, delta.size(), 0}));
  cut += c.frame(w::Type::Chunk, w::encode_chunk_head(0) + delta.substr(0, 100));
  w::send_all(c.fd, cut);
  c.send_checkpoint(2, 1, false, delta, 300);
  EXPECT_EQ(w::decode_ack(c.read().payload), 2u);
  std::string note;
  EXPECT_EQ(load_chain(dir, &note)->info.epoch, 2u);
  // A frame over the limit (CHECKSYNC_TEST_MAX_FRAME here) is refused.
  c.send_checkpoint(3, 2, false, std::string(600, 'x'), 600);
  w::Frame f = c.read();
  ASSERT_EQ(f.type, w::Type::Error);
  EXPECT_NE(w::decode_error(f.payload).message.find("frame too large"), std::string::npos);
  EXPECT_TRUE(c.closed());
  // The connection's writer thread removes the cut-off checkpoint's temporary
  // file after the reader has closed the socket: wait for it (bounded).
  auto temp_files = [&] {
    std::vector<std::string> found;
    for (auto &entry : std::filesystem::directory_iterator(dir))
      if (entry.path().string().find(".tmp") != std::string::npos)
        found.push_back(entry.path().string());
    return found;
  };
  for (int i = 0; i < 500 && !temp_files().empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(temp_files(), std::vector<std::string>{});
  std::filesystem::remove_all(dir);
}

TEST(Serve, ChunksOutOfPlaceAreProtocolErrors) {
  std::string dir = temp_dir("chunk-errors");
  Server s(dir);
  ASSERT_FALSE(s.port().empty()) << s.log();
  std::string base = image(1, true, 0);
  // Frames as (chunk offset, bytes); offset -1: the checkpoint's head.
  struct Case {
    const char *name, *error;
    std::vector<std::pair<std::int64_t, std::size_t>> frames;
  };
  for (const Case &k :
       {Case{"no head", "outside a checkpoint", {{0, 10}}},
        Case{"a gap", "expected offset 10", {{-1, 0}, {0, 10}, {20, 10}}},
        Case{"past the end", "expected offset 0", {{-1, 0}, {0, base.size() + 1}}}}) {
    SCOPED_TRACE(k.name);
    Client c;
    ASSERT_TRUE(c.connect(s.port()));
    ASSERT_EQ(c.hello(kSecret, 0).type, w::Type::Welcome);
    std::string frames;
    for (auto [off, n] : k.frames)
      frames += off < 0 ? c.frame(w::Type::Checkpoint,
                                  w::encode_checkpoint_head({1, 0, true, base.size(), 0}))
                        : c.frame(w::Type::Chunk,
                                  w::encode_chunk_head(std::uint64_t(off)) + std::string(n, 'x'));
    w::send_all(c.fd, frames);
    w::Frame f = c.read();
    ASSERT_EQ(f.type, w::Type::Error);
    w::ErrorMsg e = w::decode_error(f.payload);
    EXPECT_EQ(e.code, w::ErrorCode::Protocol);
    EXPECT_NE(e.message.find(k.error), std::string::npos) << e.message;
    EXPECT_TRUE(c.closed());
  }
  s.stop(SIGTERM);
  EXPECT_TRUE(list_checkpoints(dir).empty());
  std::filesystem::remove_all(dir);
}

// Another run's epochs (a fresh primary numbers from 1 again) are not
// duplicates of the stored chain's: only epoch and chain id together are.
TEST(Serve, EpochsOfAnotherChainAreNotTakenForDuplicates) {
  std::string dir = temp_dir("other-chain");
  make_store(dir, 3, /*chain=*/111); // run A
  Server s(dir);
  ASSERT_FALSE(s.port().empty()) << s.log();
  Client c;
  ASSERT_TRUE(c.connect(s.port()));
  ASSERT_EQ(c.hello(kSecret, 0).type, w::Type::Welcome);
  EXPECT_EQ(c.welcome.durable, 3u);
  EXPECT_EQ(c.welcome.chain_id, 111u);
  // Run B's full epoch 2: not acknowledged as covered by A's epoch 3.
  c.send_checkpoint(2, 0, true, image(2, true, 0, 222), 1000, 222);
  w::Frame f = c.read();
  ASSERT_EQ(f.type, w::Type::NeedFull);
  EXPECT_EQ(w::decode_need_full(f.payload).durable, 3u);
  // B's delta that follows epoch 3 by number only.
  c.send_checkpoint(4, 3, false, image(4, false, 3, 222), 1000, 222);
  ASSERT_EQ(c.read().type, w::Type::NeedFull);
  // A's own duplicate: acknowledged exactly, not as epoch 3.
  c.send_checkpoint(2, 1, false, image(2, false, 1, 111), 1000, 111);
  f = c.read();
  ASSERT_EQ(f.type, w::Type::Ack);
  EXPECT_EQ(w::decode_ack(f.payload), 2u);
  // A head that does not name the chain inside is refused, naming the epoch.
  c.send_checkpoint(5, 0, true, image(5, true, 0, 333), 1000, 222);
  f = c.read();
  ASSERT_EQ(f.type, w::Type::Error);
  w::ErrorMsg e = w::decode_error(f.payload);
  EXPECT_EQ(e.code, w::ErrorCode::Protocol);
  EXPECT_EQ(e.epoch, 5u);
  EXPECT_NE(e.message.find("of chain 333, its head says full of chain 222"), std::string::npos)
      << e.message;
  // B's full above A's epochs replaces A's chain.
  Client d;
  ASSERT_TRUE(d.connect(s.port()));
  ASSERT_EQ(d.hello(kSecret, 0).type, w::Type::Welcome);
  d.send_checkpoint(4, 0, true, image(4, true, 0, 222), 1000, 222);
  EXPECT_EQ(w::decode_ack(d.read().payload), 4u);
  std::string note;
  EXPECT_EQ(load_chain(dir, &note)->info.chain_id, 222u);
  std::filesystem::remove_all(dir);
}

// Run A stored epochs 1-3; run B, fresh, takes 10 checkpoints while the
// backup is down, then the backup starts on A's directory. B must not take
// A's epoch 3 for its own: none of its 10 is durable there, and what the
// backup then stores and a resume restores is B's.
TEST(ShipperServe, FreshRunDoesNotTakeAnotherRunsEpochsForItsOwn) {
  std::string dir = temp_dir("fresh-run");
  make_store(dir, 3, /*chain=*/111);
  std::string port = free_port();
  Shipper sh(shipper_options(port));
  ASSERT_TRUE(sh.submit(1, true, 0, 222, image(1, true, 0, 222)));
  for (std::uint64_t e = 2; e <= 10; ++e)
    ASSERT_TRUE(sh.submit(e, false, e - 1, 222, image(e, false, e - 1, 222)));
  Server s(dir, {}, "127.0.0.1:" + port);
  ASSERT_FALSE(s.port().empty()) << s.log();
  for (std::uint64_t e = 1; e <= 10; ++e)
    EXPECT_FALSE(sh.wait_acked(e)) << "epoch " << e << " is not durable from run B";
  std::optional<std::uint64_t> floor = full_request(sh);
  ASSERT_TRUE(floor);
  EXPECT_GE(*floor, 10u);
  std::uint64_t e = *floor + 1;
  ASSERT_TRUE(sh.submit(e, true, 0, 333, image(e, true, 0, 333)));
  EXPECT_TRUE(sh.wait_acked(e));
  EXPECT_FALSE(sh.wait_acked(3)) << "dropped stays dropped once a later epoch is durable";
  EXPECT_TRUE(sh.flush(5000));
  s.stop(SIGTERM);
  std::string note;
  auto img = load_chain(dir, &note);
  EXPECT_EQ(img->info.epoch, e);
  EXPECT_EQ(img->info.chain_id, 333u) << "B's state, not A's";
  std::filesystem::remove_all(dir);
}

// A checkpoint the backup refuses (it would not resume) is dropped by the
// primary, not resent on every reconnection: waiting on it returns false and
// the chain restarts with a full checkpoint, after a pause.
TEST(ShipperServe, RefusedCheckpointIsDroppedNotResent) {
  std::string dir = temp_dir("refused");
  Server s(dir);
  ASSERT_FALSE(s.port().empty()) << s.log();
  Shipper sh(shipper_options(s.port()));
  std::string bad = image(1, true, 0, 7);
  bad[bad.size() / 2] ^= 1; // the file's checksum no longer matches
  ASSERT_TRUE(sh.submit(1, true, 0, 7, bad));
  for (int i = 0; i < 500 && sh.metrics().dropped == 0; ++i)
    ::usleep(10000);
  ASSERT_EQ(sh.metrics().dropped, 1u) << s.log();
  EXPECT_FALSE(sh.wait_acked(1));
  std::optional<std::uint64_t> floor = full_request(sh);
  ASSERT_TRUE(floor);
  EXPECT_GE(*floor, 1u);
  std::uint64_t e = *floor + 1;
  ASSERT_TRUE(sh.submit(e, true, 0, 8, image(e, true, 0, 8)));
  EXPECT_TRUE(sh.wait_acked(e));
  EXPECT_FALSE(sh.wait_acked(1));
  std::string log = s.log();
  std::size_t refusals = 0;
  for (std::size_t at = log.find("bad CHECKPOINT"); at != std::string::npos;
       at = log.find("bad CHECKPOINT", at + 1))
    ++refusals;
  EXPECT_EQ(refusals, 1u) << "refused once, never resent:\n" << log;
  EXPECT_TRUE(sh.flush(5000));
  std::filesystem::remove_all(dir);
}

// The generation cannot be recorded (as on a full disk): the primary is
// refused with a Storage error and serve goes on serving.
TEST(Serve, GenerationWriteFailureRefusesThePrimaryAndKeepsServing) {
  std::string dir = temp_dir("generation-fails");
  Server s(dir);
  ASSERT_FALSE(s.port().empty()) << s.log();
  // Its temporary file cannot be created (CHECKSYNC_TEST_ENOSPC_AFTER only
  // fails checkpoint files).
  std::filesystem::create_directory(dir + "/generation.tmp");
  {
    Client c;
    ASSERT_TRUE(c.connect(s.port()));
    w::Frame f = c.hello(kSecret, 0);
    ASSERT_EQ(f.type, w::Type::Error);
    w::ErrorMsg e = w::decode_error(f.payload);
    EXPECT_EQ(e.code, w::ErrorCode::Storage);
    EXPECT_NE(e.message.find("cannot record generation 1"), std::string::npos) << e.message;
    EXPECT_TRUE(c.closed());
  }
  std::filesystem::remove(dir + "/generation.tmp");
  Client d;
  ASSERT_TRUE(d.connect(s.port())) << s.log();
  ASSERT_EQ(d.hello(kSecret, 0).type, w::Type::Welcome) << s.log();
  EXPECT_EQ(d.welcome.generation, 1u);
  std::filesystem::remove_all(dir);
}

// A crash between putting a new chain's base in place and removing the old
// chain's files may leave a delta numbered to follow the new base. It is of
// another chain: after a restart it is ignored, and the new base is announced
// and resumed.
TEST(Serve, LeftoverDeltaOfTheOldChainIsIgnoredAfterRestart) {
  std::string dir = temp_dir("leftover");
  {
    DirStore store(dir);
    store.write(1, true, image(1, true, 0, 111));
    store.write(3, false, image(3, false, 2, 111)); // after a gap in chain 111
    store.write(2, true, image(2, true, 0, 222));   // the new chain's base
  }
  ASSERT_EQ(list_checkpoints(dir).back().epoch, 3u);
  std::string note;
  auto img = load_chain(dir, &note);
  EXPECT_EQ(img->info.epoch, 2u);
  EXPECT_EQ(img->info.chain_id, 222u);
  Server s(dir);
  ASSERT_FALSE(s.port().empty()) << s.log();
  Client c;
  ASSERT_TRUE(c.connect(s.port()));
  ASSERT_EQ(c.hello(kSecret, 0).type, w::Type::Welcome);
  EXPECT_EQ(c.welcome.durable, 2u) << s.log();
  EXPECT_EQ(c.welcome.chain_id, 222u);
  // The next full removes the leftover.
  c.send_checkpoint(4, 0, true, image(4, true, 0, 333), 1000, 333);
  EXPECT_EQ(w::decode_ack(c.read().payload), 4u);
  EXPECT_EQ(list_checkpoints(dir).size(), 1u);
  std::filesystem::remove_all(dir);
}

// After WELCOME every frame is sealed (rt/ha/session.h). An attacker on the
// path who cannot seal gets nothing stored: a frame it altered (checksum
// recomputed), one it made up unsealed, or one it replayed is a Protocol
// error, and the connection ends.
TEST(Serve, FramesNotSealedByThePrimaryAreRefused) {
  std::string dir = temp_dir("sealed");
  Server s(dir);
  ASSERT_FALSE(s.port().empty()) << s.log();
  std::string base = image(1, true, 0);
  auto expect_refused = [&](Client &c, const std::string &bytes) {
    w::send_all(c.fd, bytes);
    w::Frame f = c.read();
    ASSERT_EQ(f.type, w::Type::Error);
    w::ErrorMsg e = w::decode_error(f.payload);
    EXPECT_EQ(e.code, w::ErrorCode::Protocol);
    EXPECT_NE(e.message.find("failed authentication"), std::string::npos) << e.message;
    EXPECT_TRUE(c.closed());
  };
  {
    SCOPED_TRACE("unsealed");
    Client c;
    ASSERT_TRUE(c.connect(s.port()));
    ASSERT_EQ(c.hello(kSecret, 0).type, w::Type::Welcome);
    expect_refused(c, w::encode_frame(w::Type::Checkpoint,
                                      w::encode_checkpoint_head({1, 0, true, base.size(), 0})));
  }
  {
    SCOPED_TRACE("altered, checksum recomputed");
    Client c;
    ASSERT_TRUE(c.connect(s.port()));
    ASSERT_EQ(c.hello(kSecret, 0).type, w::Type::Welcome);
    std::string head =
        c.frame(w::Type::Checkpoint, w::encode_checkpoint_head({1, 0, true, base.size(), 0}));
    w::Frame f;
    std::size_t used;
    std::string err;
    ASSERT_EQ(w::parse_frame(head.data(), head.size(), f, used, err), w::Parse::Ok);
    f.payload[0] ^= 1; // the epoch, say
    expect_refused(c, w::encode_frame(f.type, f.payload));
  }
  {
    SCOPED_TRACE("replayed");
    Client c;
    ASSERT_TRUE(c.connect(s.port()));
    ASSERT_EQ(c.hello(kSecret, 0).type, w::Type::Welcome);
    std::string hb = c.frame(w::Type::Heartbeat, w::encode_heartbeat(1));
    expect_refused(c, hb + hb);
  }
  s.stop(SIGTERM);
  EXPECT_TRUE(list_checkpoints(dir).empty());
  std::filesystem::remove_all(dir);
}

// The attack of issue 16: a relay on the path answers the primary's
// checkpoint with an ACK it made up (unsealed; then sealed under keys of
// another handshake). The primary must not count the epoch durable: it drops
// the connection and reconnects, and the epoch stays unacknowledged.
TEST(ShipperServe, ForgedAcknowledgementsNeverMakeAnEpochDurable) {
  std::string bound;
  int lfd = w::listen_on({"127.0.0.1", "0"}, &bound);
  std::string port = bound.substr(bound.rfind(':') + 1);
  std::atomic<int> forged{0};
  std::thread relay([&] {
    for (int round = 0; round < 2; ++round) {
      pollfd pf{lfd, POLLIN, 0};
      if (::poll(&pf, 1, 10000) != 1)
        return;
      int fd = ::accept(lfd, nullptr, nullptr);
      if (fd < 0)
        return;
      // The handshake passes through untouched (here: answered with the
      // secret, as the real backup behind the relay would).
      w::Nonce nb = w::random_nonce();
      w::send_frame(fd, w::Type::Challenge, w::encode(w::Challenge{w::kVersion, nb}));
      w::Reader rd(fd);
      w::Frame f;
      std::string err;
      if (rd.next(f, 5000, err) != w::Reader::Result::Frame) {
        ::close(fd);
        return;
      }
      w::Auth a = w::decode_auth(f.payload);
      w::send_frame(fd, w::Type::Welcome,
                    w::encode(w::Welcome{1, 0, 0, w::backup_mac(kSecret, a.nonce, nb, 1, 0, 0)}));
      if (rd.next(f, 5000, err) == w::Reader::Result::Frame) { // the checkpoint's head
        if (round == 0) {
          w::send_frame(fd, w::Type::Ack, w::encode_ack(1));
        } else {
          w::Session other(w::Session::Side::Backup, kSecret, w::random_nonce(), a.nonce, 1);
          w::send_all(fd, other.seal(w::Type::Ack, w::encode_ack(1)));
        }
        ++forged;
      }
      while (rd.next(f, 3000, err) == w::Reader::Result::Frame) {
      }
      ::close(fd);
    }
  });
  {
    Shipper sh(shipper_options(port));
    ASSERT_TRUE(sh.submit(1, true, 0, 5, image(1, true, 0, 5)));
    for (int i = 0; i < 1000 && (forged < 2 || sh.metrics().reconnects < 2); ++i)
      ::usleep(10000);
    EXPECT_EQ(forged.load(), 2);
    EXPECT_GE(sh.metrics().reconnects, 2u) << "the primary dropped both forging connections";
    EXPECT_EQ(sh.metrics().acked, 0u) << "a forged ACK made epoch 1 durable";
  }
  ::close(lfd);
  relay.join();
}
