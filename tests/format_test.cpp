#include "format/format.h"
#include "test_types.h"

#include <gtest/gtest.h>

using namespace checksync::detail;
using cstest::Node;

namespace {
std::string encode_current(std::uint64_t epoch = 1) {
  auto &s = cstest::registered();
  static std::uint32_t m = 5000;
  MarkResult r = mark_from_roots(s.types, s.roots, ++m);
  ImageInfo info;
  info.epoch = epoch;
  info.program = "format_test";
  return encode_full(info, s.types, s.roots, r);
}

void expect_error(std::string bytes, const std::string &needle) {
  try {
    decode_image(std::move(bytes), "f");
    FAIL() << "expected an error containing: " << needle;
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}
} // namespace

TEST(Format, RoundTripsSchemaRootsAndObjects) {
  Node *a = cstest::new_node(-5), *b = cstest::new_node(1LL << 40);
  a->next = b;
  a->weight = 2.5;
  a->tag[4] = 200;
  a->small[2] = -7;
  a->pair = {-3, 1.5f};
  cstest::root_node = a;
  cstest::root_counter = -42;
  std::string bytes = encode_current(9);
  auto img = decode_image(bytes, "f");
  EXPECT_EQ(img->info.epoch, 9u);
  EXPECT_EQ(img->info.program, "format_test");
  ASSERT_EQ(img->objects.size(), 2u);
  EXPECT_EQ(img->objects[0].id, header_of(a)->id);
  EXPECT_EQ(img->objects[1].id, header_of(b)->id);
  EXPECT_EQ(img->roots.size(), 3u);
  EXPECT_EQ(img->roots[1].value->via.i64, -42);
  const msgpack::object *v = img->objects[0].values;
  EXPECT_EQ(v[0].via.i64, -5);                   // key
  EXPECT_EQ(v[1].via.u64, header_of(b)->id);     // next as an id, not an address
  EXPECT_EQ(v[2].type, msgpack::type::NIL);      // other
  EXPECT_EQ(v[3].via.f64, 2.5);
  EXPECT_EQ(v[4].type, msgpack::type::BIN);      // uint8[5] as bytes
  EXPECT_EQ((unsigned char)v[4].via.bin.ptr[4], 200);
  EXPECT_EQ(v[5].via.array.ptr[2].via.i64, -7);
  EXPECT_EQ(v[6].via.array.ptr[0].via.i64, -3);  // nested record
  cstest::root_node = nullptr;
  cstest::root_counter = 0;
  delete a;
  delete b;
}

TEST(Format, SmallerThanTheRawObjects) {
  std::vector<Node *> nodes;
  for (int i = 0; i < 1000; ++i) {
    nodes.push_back(cstest::new_node(i));
    if (i)
      nodes[i - 1]->next = nodes[i];
  }
  cstest::root_node = nodes[0];
  std::string bytes = encode_current();
  EXPECT_LT(bytes.size(), 1000 * sizeof(Node));
  cstest::root_node = nullptr;
  for (Node *n : nodes)
    delete n;
}

TEST(Format, DetectsCorruption) {
  cstest::root_node = cstest::new_node(1);
  std::string good = encode_current();
  delete cstest::root_node;
  cstest::root_node = nullptr;
  for (size_t i = 0; i < good.size(); i += 7) {
    std::string bad = good;
    bad[i] ^= 0x40;
    EXPECT_THROW(decode_image(bad, "f"), Error) << "flipped byte " << i;
  }
  expect_error(good.substr(0, good.size() - 1), "truncated");
  expect_error(good.substr(0, 10), "truncated");
  expect_error("", "empty");
  expect_error("not a checkpoint at all", "bad magic");
  std::string v2 = good;
  v2[8] = 7;
  expect_error(v2, "version 7");
  std::string corrupt = good;
  corrupt[20] ^= 1;
  expect_error(corrupt, "checksum");
}
