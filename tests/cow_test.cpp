// heap/cow.h: the copy-on-write state machine, driven directly (the e2e
// tests, matrix mode `cow` and e2e/cow_writes.cpp, drive it through programs).
#include "heap/cow.h"
#include "test_types.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

using namespace checksync::detail;
using cstest::Node;

namespace {

std::vector<ObjHeader *> delta_of(const std::vector<Node *> &nodes) {
  std::vector<ObjHeader *> hs;
  for (Node *n : nodes)
    hs.push_back(header_of(n));
  return hs; // CowDelta puts them in address order
}

std::uint8_t card_of(const void *p) {
  auto d = reinterpret_cast<std::uintptr_t>(p) - checksync_rt_cards.lo;
  return checksync_rt_cards.cards[d >> CHECKSYNC_CARD_SHIFT];
}

} // namespace

TEST(Cow, PublishFlagsCardsAndRetireClearsThem) {
  std::vector<Node *> nodes{cstest::new_node(1), cstest::new_node(2)};
  {
    CowDelta d(delta_of(nodes), [](std::size_t) {});
    d.publish();
    EXPECT_EQ(cow_current.load(), &d);
    EXPECT_NE(checksync_rt_cards.in_flight, 0u);
    for (Node *n : nodes)
      EXPECT_TRUE(card_of(n) & CHECKSYNC_CARD_IN_FLIGHT);
    d.retire();
    EXPECT_EQ(cow_current.load(), nullptr);
    EXPECT_EQ(checksync_rt_cards.in_flight, 0u);
    for (Node *n : nodes)
      EXPECT_FALSE(card_of(n) & CHECKSYNC_CARD_IN_FLIGHT);
  }
  for (Node *n : nodes)
    delete n;
}

TEST(Cow, AWriteCopiesAnUnclaimedObjectOnceAndTheEncoderSkipsIt) {
  std::vector<Node *> nodes{cstest::new_node(1), cstest::new_node(2), cstest::new_node(3)};
  std::vector<int> copies(nodes.size());
  CowDelta d(delta_of(nodes), [&](std::size_t i) { ++copies[i]; });
  d.publish();
  checksync_rt_mark_range(&nodes[1]->weight, sizeof(double)); // the barrier's slow path
  checksync_rt_mark_range(&nodes[1]->key, sizeof(std::int64_t));
  EXPECT_EQ(copies, (std::vector<int>{0, 1, 0}));
  EXPECT_TRUE(card_of(nodes[1]) & CHECKSYNC_CARD_DIRTY); // and the write is recorded
  EXPECT_TRUE(d.claim(0));
  d.encoded(0);
  EXPECT_FALSE(d.claim(1)); // copied: the encoder uses the copy
  EXPECT_TRUE(d.claim(2));
  d.encoded(2);
  checksync_rt_mark_range(&nodes[0]->key, 8); // already encoded: no copy
  EXPECT_EQ(copies, (std::vector<int>{0, 1, 0}));
  EXPECT_EQ(d.copies(), 1u);
  EXPECT_FALSE(d.failed());
  d.retire();
  for (Node *n : nodes)
    delete n;
}

TEST(Cow, WritesToObjectsOutsideTheDeltaCopyNothing) {
  Node *in = cstest::new_node(1), *out = cstest::new_node(2);
  int copies = 0;
  CowDelta d(delta_of({in}), [&](std::size_t) { ++copies; });
  d.publish();
  checksync_rt_mark_range(out, sizeof(Node));
  EXPECT_EQ(copies, 0);
  d.retire();
  delete in;
  delete out;
}

TEST(Cow, AFreeDuringTheEncodingCopiesAndKeepsTheBlockUntilRetire) {
  Node *n = cstest::new_node(5);
  ObjHeader *h = header_of(n);
  int copies = 0;
  CowDelta d(delta_of({n}), [&](std::size_t) { ++copies; });
  d.publish();
  HeapStats before = heap_stats();
  delete n;
  EXPECT_EQ(copies, 1); // a trivially destructible object reaches heap_free unwritten
  EXPECT_EQ(heap_stats().live_objects, before.live_objects - 1);
  std::uint64_t off;
  EXPECT_EQ(find_object(n, &off), nullptr);          // gone for the program
  EXPECT_EQ(find_object(n, &off, /*kept=*/true), h); // still an id for the encoder
  EXPECT_EQ(h->magic, kKeptMagic);
  d.retire();
  EXPECT_EQ(find_object(n, &off, /*kept=*/true), nullptr);
}

// An object larger than find_object's 64 MiB backward scan: a write far
// into it must still copy it first.
TEST(Cow, AWriteDeepIntoALargeArrayCopiesIt) {
  std::size_t n = (std::size_t(80) << 20) / sizeof(Node);
  auto *arr = static_cast<Node *>(heap_alloc(cstest::node_type(), sizeof(Node), alignof(Node), n));
  int copies = 0;
  CowDelta d({header_of(arr)}, [&](std::size_t) { ++copies; });
  d.publish();
  checksync_rt_mark_range(&arr[n - 10].key, 8);
  EXPECT_EQ(copies, 1);
  EXPECT_FALSE(d.claim(0));
  d.retire();
  heap_free(arr);
}

TEST(Cow, AFailedCopyFailsTheDelta) {
  Node *n = cstest::new_node(1);
  CowDelta d(delta_of({n}), [](std::size_t) { throw std::runtime_error("x"); });
  d.publish();
  checksync_rt_mark_range(n, 8); // noexcept: the failure is recorded, not thrown
  EXPECT_TRUE(d.failed());
  EXPECT_FALSE(d.claim(0));
  d.retire();
  delete n;
}

// A writer and the encoder race over many objects: each object is either
// claimed by the encoder or copied by the writer, never both, and a write
// never proceeds while the encoder holds the object.
TEST(Cow, WriterAndEncoderRaceEachObjectOnce) {
  std::vector<Node *> nodes;
  for (int i = 0; i < 4000; ++i)
    nodes.push_back(cstest::new_node(i));
  std::vector<std::atomic<int>> copied(nodes.size());
  std::vector<std::atomic<int>> reading(nodes.size());
  std::atomic<int> overlaps{0};
  CowDelta d(delta_of(nodes), [&](std::size_t i) { ++copied[i]; });
  d.publish();
  std::vector<int> claimed(nodes.size());
  std::thread encoder([&] {
    for (std::size_t i = 0; i < nodes.size(); ++i)
      if (d.claim(i)) {
        claimed[i] = 1;
        reading[i] = 1;
        for (int k = 0; k < 50; ++k)
          asm volatile("" ::: "memory"); // a short read the compiler cannot drop
        reading[i] = 0;
        d.encoded(i);
      }
  });
  for (std::size_t k = 0; k < nodes.size(); ++k) {
    std::size_t i = (k * 7919) % nodes.size();
    checksync_rt_mark_range(&nodes[i]->key, 8);
    if (reading[i])
      ++overlaps;
    nodes[i]->key = -1;
  }
  encoder.join();
  d.retire();
  EXPECT_EQ(overlaps, 0);
  for (std::size_t i = 0; i < nodes.size(); ++i)
    EXPECT_EQ(claimed[i] + copied[i], 1) << i;
  for (Node *n : nodes)
    delete n;
}
