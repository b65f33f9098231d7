#include "heap/heap.h"
#include "test_types.h"

#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

using namespace checksync::detail;
using cstest::Node;

TEST(Heap, ObjectsLiveInTheArenaWithAHeader) {
  Node *n = cstest::new_node(7);
  ASSERT_TRUE(in_heap(n));
  ObjHeader *h = header_of(n);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->type, cstest::node_type());
  EXPECT_EQ(h->count, 1u);
  EXPECT_NE(h->id, 0u);
  delete n; // the runtime's operator delete returns it to the heap
}

TEST(Heap, IdsAreUniqueAndIncreasing) {
  Node *a = cstest::new_node(1), *b = cstest::new_node(2);
  EXPECT_LT(header_of(a)->id, header_of(b)->id);
  delete a;
  delete b;
}

TEST(Heap, DeleteUpdatesStatisticsAndInvalidatesHeader) {
  HeapStats before = heap_stats();
  Node *n = cstest::new_node(3);
  EXPECT_EQ(heap_stats().live_objects, before.live_objects + 1);
  EXPECT_EQ(heap_stats().live_bytes, before.live_bytes + sizeof(Node));
  delete n;
  EXPECT_EQ(heap_stats().live_objects, before.live_objects);
  EXPECT_EQ(heap_stats().live_bytes, before.live_bytes);
}

TEST(Heap, OrdinaryMemoryIsNotPersistent) {
  auto ordinary = std::make_unique<int>(5);
  int local = 0;
  EXPECT_FALSE(in_heap(ordinary.get()));
  EXPECT_EQ(header_of(ordinary.get()), nullptr);
  EXPECT_EQ(header_of(&local), nullptr);
  EXPECT_EQ(header_of(nullptr), nullptr);
}

TEST(Heap, InteriorPointersHaveNoHeader) {
  Node *n = cstest::new_node(4);
  EXPECT_TRUE(in_heap(&n->weight));
  EXPECT_EQ(header_of(&n->weight), nullptr);
  delete n;
}

TEST(Heap, ArraysRecordTheirElementCount) {
  auto *arr = static_cast<Node *>(heap_alloc(cstest::node_type(), sizeof(Node), alignof(Node), 10));
  EXPECT_EQ(header_of(arr)->count, 10u);
  delete[] arr;
}

TEST(Heap, OverAlignedAllocation) {
  void *p = heap_alloc(cstest::node_type(), 64, 256, 1);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 256, 0u);
  EXPECT_NE(header_of(p), nullptr);
  heap_free(p);
}

TEST(Heap, AllocateOnManyThreadsFreeOnAnother) {
  std::vector<Node *> nodes(8 * 1000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i)
        nodes[t * 1000 + i] = cstest::new_node(i);
    });
  for (auto &t : threads)
    t.join();
  for (Node *n : nodes) {
    ASSERT_TRUE(in_heap(n));
    ASSERT_NE(header_of(n), nullptr);
  }
  for (Node *n : nodes)
    delete n; // threads are gone: their heaps were abandoned
}

TEST(Heap, RestoredIdsAreNotReused) {
  heap_reserve_ids_through(1'000'000);
  Node *n = cstest::new_node(1);
  EXPECT_GT(header_of(n)->id, 1'000'000u);
  delete n;
}
