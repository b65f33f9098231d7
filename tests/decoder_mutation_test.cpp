// Random mutations of a valid checkpoint body, with the checksum recomputed so
// the decoder itself is exercised: every outcome is either a clean Error or a
// fully validated image that restores without crashing.
#include "format/format.h"
#include "runtime/restore.h"
#include "test_types.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <gtest/gtest.h>

#include <cstring>
#include <random>

using namespace checksync::detail;
using cstest::Node;

namespace {
void reseal(std::string &bytes) {
  std::uint64_t body = bytes.size() - kHeaderBytes - kTrailerBytes;
  std::memcpy(&bytes[bytes.size() - kTrailerBytes], &body, 8);
  std::uint64_t sum = XXH3_64bits(bytes.data(), kHeaderBytes + body);
  std::memcpy(&bytes[bytes.size() - 8], &sum, 8);
}
} // namespace

TEST(DecoderMutation, NeverCrashesOnResealedGarbage) {
  auto &s = cstest::registered();
  std::vector<Node *> nodes;
  for (int i = 0; i < 20; ++i) {
    nodes.push_back(cstest::new_node(i * 1000 - 7));
    if (i)
      nodes[i - 1]->next = nodes[i];
    nodes[i]->other = nodes[i / 2];
  }
  cstest::root_node = nodes[0];
  MarkResult marked = mark_from_roots(s.types, s.roots, 77777);
  ImageInfo info;
  info.epoch = 3;
  const std::string good = encode_full(info, s.types, s.roots, marked);
  cstest::root_node = nullptr;

  std::mt19937_64 rng(12345);
  int decoded = 0, rejected = 0;
  for (int iter = 0; iter < 4000; ++iter) {
    std::string bad = good;
    std::size_t body = bad.size() - kHeaderBytes - kTrailerBytes;
    int flips = 1 + int(rng() % 4);
    for (int f = 0; f < flips; ++f)
      bad[kHeaderBytes + rng() % body] = char(rng());
    if (rng() % 8 == 0) { // truncate or extend the body, keeping the envelope valid
      std::string trailer = bad.substr(bad.size() - kTrailerBytes);
      bad.resize(kHeaderBytes + rng() % (body + 8), '\x01');
      bad += trailer;
    }
    reseal(bad);
    try {
      auto img = decode_image(bad, "mutated");
      ++decoded;
      check_schema(*img, s.types, s.roots);
      restore_image(*img, s.types, s.roots);
    } catch (const Error &) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0);
  cstest::root_node = nullptr;
  for (Node *n : nodes)
    delete n;
}
