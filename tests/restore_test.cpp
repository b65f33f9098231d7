#include "runtime/restore.h"
#include "test_types.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

using namespace checksync::detail;
using cstest::Node;

namespace {

// Canonical digest of the state reachable from the roots: objects numbered in
// discovery order, so it is independent of addresses and ids.
std::string digest() {
  std::map<const Node *, int> num;
  std::vector<const Node *> order;
  auto id = [&](const Node *n) -> int {
    if (!n)
      return -1;
    auto [it, fresh] = num.emplace(n, int(order.size()));
    if (fresh)
      order.push_back(n);
    return it->second;
  };
  std::string out = "counter=" + std::to_string(cstest::root_counter) +
                    " pair=" + std::to_string(cstest::root_pair.a) + "/" +
                    std::to_string(cstest::root_pair.b) + " root=" +
                    std::to_string(id(cstest::root_node)) + "\n";
  for (size_t i = 0; i < order.size(); ++i) {
    const Node *n = order[i];
    out += std::to_string(i) + ": " + std::to_string(n->key) + " " + std::to_string(id(n->next)) +
           " " + std::to_string(id(n->other)) + " " + std::to_string(n->weight);
    for (auto t : n->tag)
      out += " " + std::to_string(t);
    for (auto s : n->small)
      out += " " + std::to_string(s);
    out += " " + std::to_string(n->pair.a) + " " + std::to_string(n->pair.b) + "\n";
  }
  return out;
}

std::unique_ptr<Image> checkpoint_now() {
  auto &s = cstest::registered();
  static std::uint32_t m = 9000;
  MarkResult r = mark_from_roots(s.types, s.roots, ++m);
  ImageInfo info;
  info.epoch = 1;
  return decode_image(encode_full(info, s.types, s.roots, r), "mem");
}

} // namespace

// Random graphs with cycles, sharing and garbage: checkpoint, wipe the roots,
// restore, and the digest must be identical while every object is new.
TEST(Restore, RandomGraphsRoundTrip) {
  auto &s = cstest::registered();
  for (unsigned seed = 1; seed <= 40; ++seed) {
    std::mt19937_64 rng(seed);
    int n = 1 + int(rng() % 300);
    std::vector<Node *> nodes;
    for (int i = 0; i < n; ++i) {
      Node *x = cstest::new_node(std::int64_t(rng()));
      x->weight = double(rng() % 1000) / 7.0;
      for (auto &t : x->tag)
        t = std::uint8_t(rng());
      for (auto &v : x->small)
        v = std::int16_t(rng());
      x->pair = {std::int32_t(rng()), float(rng() % 100) / 3.0f};
      nodes.push_back(x);
    }
    for (Node *x : nodes) {
      if (rng() % 4)
        x->next = nodes[rng() % n];
      if (rng() % 3 == 0)
        x->other = nodes[rng() % n];
    }
    cstest::root_node = nodes[rng() % n];
    cstest::root_counter = std::int64_t(rng());
    cstest::root_pair = {std::int32_t(rng()), 0.25f};
    std::string before = digest();
    auto img = checkpoint_now();

    cstest::root_node = nullptr;
    cstest::root_counter = 0;
    cstest::root_pair = {0, 0};
    std::uint64_t restored = restore_image(*img, s.types, s.roots);
    EXPECT_EQ(restored, img->objects.size());
    EXPECT_LE(restored, std::uint64_t(n));
    EXPECT_EQ(digest(), before) << "seed " << seed;
    if (cstest::root_node) {
      bool fresh = true;
      for (Node *x : nodes)
        fresh &= x != cstest::root_node;
      EXPECT_TRUE(fresh) << "restore must allocate new objects";
      EXPECT_EQ(header_of(cstest::root_node)->type, cstest::node_type());
    }
    // Restored objects keep their ids: a second checkpoint has the same ids.
    auto again = checkpoint_now();
    ASSERT_EQ(again->objects.size(), img->objects.size());
    for (size_t i = 0; i < img->objects.size(); ++i)
      EXPECT_EQ(again->objects[i].id, img->objects[i].id);
    cstest::root_node = nullptr;
    for (Node *x : nodes)
      delete x; // the restored copies are leaked on purpose: unreachable now
  }
}

TEST(Restore, SchemaMismatchNamesTypeAndField) {
  auto &s = cstest::registered();
  cstest::root_node = cstest::new_node(1);
  auto img = checkpoint_now();
  delete cstest::root_node;
  cstest::root_node = nullptr;

  auto expect = [&](const std::string &needle) {
    try {
      check_schema(*img, s.types, s.roots);
      FAIL() << "expected: " << needle;
    } catch (const Error &e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  Type &node = img->types[size_t(header_of(cstest::new_node(0))->type)];
  ASSERT_EQ(node.name, "cstest::Node");
  Field saved = node.fields[3];
  node.fields[3].kind = CHECKSYNC_FIELD_INT;
  expect("type cstest::Node: field 'weight' is int64 at offset");
  node.fields[3] = saved;
  node.fields[3].elem_size = 4; // float in the checkpoint, double here: widens
  node.fields[3].kind = CHECKSYNC_FIELD_FLOAT;
  EXPECT_NO_THROW(check_schema(*img, s.types, s.roots));
  node.fields[3] = saved;
  node.fields[3].name = "w"; // dropped; 'weight' added (evolve.h)
  EXPECT_NO_THROW(check_schema(*img, s.types, s.roots));
  node.fields[3] = saved;
  node.key = "N6cstest5OtherE";
  expect("is not a persistent type of this program, and the checkpoint holds");
  node.key = "N6cstest4NodeE";
  img->roots[1].root.field.kind = CHECKSYNC_FIELD_UINT;
  expect("root cstest::root_counter is uint64");
  img->roots[1].root.field.kind = CHECKSYNC_FIELD_INT;
  img->roots[1].root.name = "gone"; // dropped; the program's root keeps its value
  EXPECT_NO_THROW(check_schema(*img, s.types, s.roots));
  img->roots.push_back(img->roots[1]);
  expect("root gone appears twice");
  img->roots.pop_back();
  img->roots[1].root.name = "cstest::root_counter";
  EXPECT_NO_THROW(check_schema(*img, s.types, s.roots));
}
