// The wire protocol: frames and messages round-trip, and damaged input is
// rejected cleanly (a corrupt byte, a truncated frame, a wrong magic or
// version, an oversized length, malformed message bodies).
#include "schema/types.h"
#include "ha/wire.h"

#include <gtest/gtest.h>

#include <random>

using namespace checksync::detail;
namespace w = checksync::detail::wire;

TEST(Wire, FramesRoundTripBackToBack) {
  std::string stream = w::encode_frame(w::Type::Ack, w::encode_ack(42)) +
                       w::encode_frame(w::Type::Heartbeat, "") +
                       w::encode_frame(w::Type::Error, w::encode(w::ErrorMsg{
                                                           w::ErrorCode::Fenced, "stale"}));
  std::size_t off = 0, used = 0;
  w::Frame f;
  std::string err;
  ASSERT_EQ(w::parse_frame(stream.data(), stream.size(), f, used, err), w::Parse::Ok);
  EXPECT_EQ(f.type, w::Type::Ack);
  EXPECT_EQ(w::decode_ack(f.payload), 42u);
  off += used;
  ASSERT_EQ(w::parse_frame(stream.data() + off, stream.size() - off, f, used, err), w::Parse::Ok);
  EXPECT_EQ(f.type, w::Type::Heartbeat);
  off += used;
  ASSERT_EQ(w::parse_frame(stream.data() + off, stream.size() - off, f, used, err), w::Parse::Ok);
  w::ErrorMsg e = w::decode_error(f.payload);
  EXPECT_EQ(e.code, w::ErrorCode::Fenced);
  EXPECT_EQ(e.message, "stale");
  EXPECT_EQ(off + used, stream.size());
}

TEST(Wire, EveryTruncationNeedsMoreAndEveryFlipIsCaught) {
  std::string frame =
      w::encode_frame(w::Type::Chunk, w::encode_chunk_head(7) + "checkpoint bytes");
  w::Frame f;
  std::size_t used;
  std::string err;
  for (std::size_t n = 0; n < frame.size(); ++n)
    EXPECT_EQ(w::parse_frame(frame.data(), n, f, used, err), w::Parse::NeedMore) << n;
  for (std::size_t i = 0; i < frame.size(); ++i)
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = frame;
      bad[i] = char(bad[i] ^ (1 << bit));
      // A flip in the length may make the frame look longer (NeedMore);
      // anything else is caught by the magic, version, type or checksum.
      w::Parse p = w::parse_frame(bad.data(), bad.size(), f, used, err);
      EXPECT_NE(p, w::Parse::Ok) << "byte " << i << " bit " << bit;
    }
}

TEST(Wire, HeaderErrorsSayWhat) {
  w::Frame f;
  std::size_t used;
  std::string err;
  std::string frame = w::encode_frame(w::Type::Heartbeat, "");
  std::string bad = frame;
  bad[0] = 'X';
  EXPECT_EQ(w::parse_frame(bad.data(), bad.size(), f, used, err), w::Parse::Bad);
  EXPECT_NE(err.find("magic"), std::string::npos);
  bad = frame;
  bad[4] = 9;
  EXPECT_EQ(w::parse_frame(bad.data(), bad.size(), f, used, err), w::Parse::Bad);
  EXPECT_NE(err.find("version 9"), std::string::npos);
  bad = frame;
  bad[8] = bad[9] = bad[10] = bad[11] = char(0x7f); // length ~2 GiB
  EXPECT_EQ(w::parse_frame(bad.data(), bad.size(), f, used, err), w::Parse::Bad);
  EXPECT_NE(err.find("too large"), std::string::npos);
}

TEST(Wire, MessagesRoundTripAndGarbageIsMalformed) {
  w::Auth a{w::random_nonce(), 3, "prog", {}};
  a.mac = w::primary_mac("k", w::Nonce{}, a.nonce, 3);
  w::Auth b = w::decode_auth(w::encode(a));
  EXPECT_EQ(b.nonce, a.nonce);
  EXPECT_EQ(b.generation, 3u);
  EXPECT_EQ(b.program, "prog");
  EXPECT_TRUE(w::mac_equal(b.mac, a.mac));
  w::Welcome wl = w::decode_welcome(w::encode(w::Welcome{5, 9, ~0ull, {}}));
  EXPECT_EQ(wl.generation, 5u);
  EXPECT_EQ(wl.durable, 9u);
  EXPECT_EQ(wl.chain_id, ~0ull);
  w::CheckpointHead h =
      w::decode_checkpoint(w::encode_checkpoint_head({9, 8, false, 5u << 30, 0xfeedull << 48}));
  EXPECT_EQ(h.epoch, 9u);
  EXPECT_EQ(h.prev_epoch, 8u);
  EXPECT_FALSE(h.full);
  EXPECT_EQ(h.bytes, 5u << 30) << "a checkpoint's length is not bounded by a frame's";
  EXPECT_EQ(h.chain_id, 0xfeedull << 48);
  w::ErrorMsg em = w::decode_error(w::encode(w::ErrorMsg{w::ErrorCode::Protocol, "bad", 7}));
  EXPECT_EQ(em.epoch, 7u);
  EXPECT_EQ(w::decode_error(w::encode(w::ErrorMsg{w::ErrorCode::Auth, "no"})).epoch, 0u);
  EXPECT_THROW(w::decode_checkpoint(w::encode_checkpoint_head({9, 9, false, 1, 1})), Error);
  EXPECT_THROW(w::decode_checkpoint(w::encode_checkpoint_head({9, 0, true, 0, 1})), Error);
  EXPECT_THROW(w::decode_checkpoint(w::encode_checkpoint_head({9, 0, true, 1, 1}) + "x"), Error);
  EXPECT_THROW(w::decode_checkpoint("short"), Error);
  std::string_view data;
  EXPECT_EQ(w::decode_chunk(w::encode_chunk_head(1u << 31) + "xy", data), 1u << 31);
  EXPECT_EQ(data, "xy");
  EXPECT_THROW(w::decode_chunk(w::encode_chunk_head(0), data), Error) << "an empty chunk";

  std::mt19937 rng(5);
  std::string good = w::encode(a);
  for (int i = 0; i < 2000; ++i) {
    std::string bad = good;
    bad[rng() % bad.size()] = char(rng());
    if (rng() % 3 == 0)
      bad.resize(rng() % bad.size());
    try {
      w::decode_auth(bad);
    } catch (const Error &) {
    }
    try {
      w::decode_welcome(bad);
    } catch (const Error &) {
    }
    try {
      w::decode_error(bad);
    } catch (const Error &) {
    }
  }
}

TEST(Wire, MacsDependOnSecretNoncesAndGeneration) {
  w::Nonce n1 = w::random_nonce(), n2 = w::random_nonce();
  EXPECT_NE(n1, n2);
  w::Mac m = w::primary_mac("secret", n1, n2, 1);
  EXPECT_TRUE(w::mac_equal(m, w::primary_mac("secret", n1, n2, 1)));
  EXPECT_FALSE(w::mac_equal(m, w::primary_mac("secreT", n1, n2, 1)));
  EXPECT_FALSE(w::mac_equal(m, w::primary_mac("secret", n2, n1, 1)));
  EXPECT_FALSE(w::mac_equal(m, w::primary_mac("secret", n1, n2, 2)));
  // The backup's proof is not the primary's proof replayed.
  EXPECT_FALSE(w::mac_equal(m, w::backup_mac("secret", n2, n1, 1, 0, 0)));
  // The backup's answer binds the chain id: another run's epoch cannot be
  // passed off as the primary's own.
  EXPECT_FALSE(w::mac_equal(w::backup_mac("secret", n2, n1, 1, 3, 111),
                            w::backup_mac("secret", n2, n1, 1, 3, 222)));
}

TEST(Wire, EndpointsParse) {
  EXPECT_EQ(w::parse_endpoint("127.0.0.1:7000").port, "7000");
  EXPECT_EQ(w::parse_endpoint("[::1]:9").host, "::1");
  EXPECT_THROW(w::parse_endpoint("nohost"), Error);
  EXPECT_THROW(w::parse_endpoint("h:p0rt"), Error);
  EXPECT_THROW(w::parse_endpoint(":1"), Error);
}
