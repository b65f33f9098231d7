// Sealed frames (rt/ha/session.h): what an on-path attacker without the
// session keys can no longer do: forge, alter, replay, reorder or reflect a
// frame, or read a checkpoint's bytes.
#include "ha/session.h"

#include <gtest/gtest.h>

using namespace checksync::detail;
namespace w = checksync::detail::wire;

namespace {

struct Pair {
  w::Nonce nb = w::random_nonce(), np = w::random_nonce();
  w::Session primary{w::Session::Side::Primary, "s3cret", nb, np, 7};
  w::Session backup{w::Session::Side::Backup, "s3cret", nb, np, 7};
};

// Parses one whole frame.
w::Frame parse(const std::string &bytes) {
  w::Frame f;
  std::size_t used = 0;
  std::string error;
  EXPECT_EQ(w::parse_frame(bytes.data(), bytes.size(), f, used, error), w::Parse::Ok) << error;
  EXPECT_EQ(used, bytes.size());
  return f;
}

// The frame with one payload byte changed and its (unkeyed) checksum
// recomputed, as an attacker on the path can.
std::string altered(const std::string &bytes, std::size_t at) {
  w::Frame f = parse(bytes);
  f.payload[at] ^= 0x01;
  return w::encode_frame(f.type, f.payload);
}

} // namespace

TEST(Session, BothDirectionsRoundTripAndHideTheBytes) {
  Pair p;
  std::string secret_value = "balance=1000000";
  std::string sealed = p.primary.seal(w::Type::Chunk, w::encode_chunk_head(0), secret_value);
  EXPECT_EQ(sealed.find(secret_value), std::string::npos) << "values cross the link encrypted";
  w::Frame f = parse(sealed);
  std::string error;
  ASSERT_TRUE(p.backup.open(f, error)) << error;
  EXPECT_EQ(f.payload, w::encode_chunk_head(0) + secret_value);
  w::Frame hb = parse(p.primary.seal(w::Type::Heartbeat, ""));
  ASSERT_TRUE(p.backup.open(hb, error)) << error;
  EXPECT_EQ(hb.payload, "");
  w::Frame ack = parse(p.backup.seal(w::Type::Ack, w::encode_ack(3)));
  ASSERT_TRUE(p.primary.open(ack, error)) << error;
  EXPECT_EQ(w::decode_ack(ack.payload), 3u);
}

TEST(Session, ForgedAlteredReplayedReorderedAndReflectedFramesDoNotOpen) {
  std::string error;
  {
    Pair p; // an ACK the attacker made up, unsealed or sealed under its own key
    w::Frame plain = parse(w::encode_frame(w::Type::Ack, w::encode_ack(9)));
    EXPECT_FALSE(p.primary.open(plain, error));
    w::Session other(w::Session::Side::Backup, "s3cret", w::random_nonce(), p.np, 7);
    w::Frame forged = parse(other.seal(w::Type::Ack, w::encode_ack(9)));
    EXPECT_FALSE(p.primary.open(forged, error));
    EXPECT_NE(error.find("failed authentication"), std::string::npos) << error;
  }
  {
    Pair p; // a byte of ciphertext, or of the tag, changed
    std::string a = p.backup.seal(w::Type::Ack, w::encode_ack(4));
    w::Frame bad = parse(altered(a, 0));
    EXPECT_FALSE(p.primary.open(bad, error));
    w::Frame bad_tag = parse(altered(a, parse(a).payload.size() - 1));
    EXPECT_FALSE(p.primary.open(bad_tag, error));
  }
  {
    Pair p; // another type with the same bytes (the header is authenticated)
    w::Frame f = parse(p.backup.seal(w::Type::Ack, w::encode_ack(4)));
    f.type = w::Type::NeedFull;
    EXPECT_FALSE(p.primary.open(f, error));
  }
  {
    Pair p; // replayed, and out of order
    std::string first = p.backup.seal(w::Type::Ack, w::encode_ack(1));
    std::string second = p.backup.seal(w::Type::Ack, w::encode_ack(2));
    w::Frame f2 = parse(second);
    EXPECT_FALSE(p.primary.open(f2, error)) << "the second frame cannot come first";
    w::Frame f1 = parse(first);
    ASSERT_TRUE(p.primary.open(f1, error)) << error;
    w::Frame again = parse(first);
    EXPECT_FALSE(p.primary.open(again, error)) << "a frame cannot be replayed";
  }
  {
    Pair p; // the primary's own frame reflected back to it
    w::Frame mine = parse(p.primary.seal(w::Type::Heartbeat, ""));
    EXPECT_FALSE(p.primary.open(mine, error));
  }
  {
    // Another secret or another generation: other keys.
    w::Nonce nb = w::random_nonce(), np = w::random_nonce();
    w::Session b(w::Session::Side::Backup, "s3cret", nb, np, 7);
    w::Session wrong_secret(w::Session::Side::Primary, "other", nb, np, 7);
    w::Session wrong_gen(w::Session::Side::Primary, "s3cret", nb, np, 8);
    std::string ack = b.seal(w::Type::Ack, w::encode_ack(1));
    w::Frame f = parse(ack), g = parse(ack);
    EXPECT_FALSE(wrong_secret.open(f, error));
    EXPECT_FALSE(wrong_gen.open(g, error));
  }
}
