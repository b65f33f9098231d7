// Dirty-card collection and delta chains at the runtime level (the barrier is
// simulated with checksync_rt_mark_range, as instrumented code would do).
#include "store/chain.h"
#include "heap/dirty.h"
#include "store/store.h"
#include "format/format.h"
#include "test_types.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <unistd.h>
#include <random>

using namespace checksync::detail;
using cstest::Node;

namespace {
std::uint32_t stamp() {
  static std::uint32_t s = 200000;
  return ++s;
}
bool contains(const std::vector<ObjHeader *> &v, const void *p) {
  return std::find(v.begin(), v.end(), header_of(p)) != v.end();
}
} // namespace

TEST(Dirty, NewObjectsAndMarkedWritesAreCollectedOnce) {
  std::vector<Node *> nodes;
  for (int i = 0; i < 100; ++i)
    nodes.push_back(cstest::new_node(i));
  DirtySet first = collect_dirty(stamp());
  for (Node *n : nodes)
    EXPECT_TRUE(contains(first.objects, n)) << "new objects are dirty";
  EXPECT_TRUE(collect_dirty(stamp()).objects.empty()) << "marks are cleared";

  checksync_rt_mark_range(&nodes[42]->weight, sizeof(double)); // a barrier
  checksync_rt_mark_range(&nodes[7]->small[2], 2);
  checksync_rt_mark_range(&nodes[7]->key, 8); // same object twice
  DirtySet d = collect_dirty(stamp());
  // Cards are 64 bytes: a marked card may also cover the end of the object
  // before it (conservative), never more than one neighbour per mark.
  EXPECT_LE(d.objects.size(), 4u);
  EXPECT_TRUE(contains(d.objects, nodes[42]));
  EXPECT_TRUE(contains(d.objects, nodes[7]));
  EXPECT_GE(d.dirty_pages, 1u);
  for (Node *n : nodes)
    delete n;
}

TEST(Dirty, OutsideTheArenaNothingIsMarked) {
  collect_dirty(stamp());
  Node local{};
  checksync_rt_mark_range(&local, sizeof local);
  checksync_rt_mark_range(nullptr, 100);
  EXPECT_TRUE(collect_dirty(stamp()).objects.empty());
}

TEST(Dirty, FreedIdsAreReported) {
  take_freed_ids();
  Node *n = cstest::new_node(1);
  std::uint64_t id = header_of(n)->id;
  delete n;
  auto freed = take_freed_ids();
  ASSERT_EQ(freed.size(), 1u);
  EXPECT_EQ(freed[0], id);
  for (ObjHeader *h : collect_dirty(stamp()).objects)
    EXPECT_NE(h->id, id) << "a freed object is not written";
}

TEST(Dirty, ALargeArrayIsFoundFromACardInItsMiddle) {
  auto *arr = static_cast<Node *>(heap_alloc(cstest::node_type(), sizeof(Node), alignof(Node), 500));
  collect_dirty(stamp());
  checksync_rt_mark_range(&arr[321].key, 8);
  DirtySet d = collect_dirty(stamp());
  ASSERT_EQ(d.objects.size(), 1u);
  EXPECT_EQ(d.objects[0], header_of(arr));
  heap_free(arr);
}

// Differential: any byte of any object's payload, marked alone, makes exactly
// that object (and at most its card neighbours) dirty, whatever the object's
// size and however its header straddles card boundaries.
TEST(Dirty, EveryPayloadByteMapsBackToItsObject) {
  std::mt19937 rng(11);
  struct Obj {
    char *payload;
    std::size_t bytes;
  };
  std::vector<Obj> objs;
  for (int i = 0; i < 1500; ++i) {
    // Arrays of 8-byte Pairs give blocks of every 8-byte size class, so
    // headers land at every offset within a card.
    bool node = rng() % 4 == 0;
    std::uint32_t type = node ? cstest::node_type() : cstest::pair_type();
    std::size_t size = node ? sizeof(Node) : sizeof(cstest::Pair);
    std::size_t count = 1 + rng() % (node ? 4 : 24);
    objs.push_back({static_cast<char *>(heap_alloc(type, size, 8, count)), size * count});
  }
  collect_dirty(stamp());
  for (int round = 0; round < 3000; ++round) {
    Obj o = objs[rng() % objs.size()];
    std::size_t off = rng() % o.bytes;
    checksync_rt_mark_range(o.payload + off, 1);
    DirtySet d = collect_dirty(stamp());
    ASSERT_TRUE(contains(d.objects, o.payload)) << "round " << round << " offset " << off;
    EXPECT_LE(d.objects.size(), 8u); // a 64-byte card holds few objects
  }
  for (Obj o : objs)
    heap_free(o.payload);
}

TEST(Chain, DeltasApplyWritesAndFreesToTheBase) {
  auto &s = cstest::registered();
  Node *a = cstest::new_node(1), *b = cstest::new_node(2), *c = cstest::new_node(3);
  a->next = b;
  b->next = c;
  cstest::root_node = a;
  ImageInfo info;
  info.epoch = 1;
  MarkResult full = mark_from_roots(s.types, s.roots, stamp());
  std::string base = encode_full(info, s.types, s.roots, full);
  collect_dirty(stamp());
  take_freed_ids();

  // Epoch 2: b changes, c is freed, d is new.
  b->key = 20;
  checksync_rt_mark_range(&b->key, 8);
  b->next = nullptr;
  std::uint64_t c_id = header_of(c)->id;
  delete c;
  Node *d = cstest::new_node(4);
  a->other = d;
  checksync_rt_mark_range(&a->other, 8);
  DirtySet dirty = collect_dirty(stamp());
  ImageInfo di;
  di.epoch = 2;
  di.kind = "delta";
  di.prev_epoch = 1;
  std::sort(dirty.objects.begin(), dirty.objects.end(), // encode_image wants them by id
            [](const ObjHeader *x, const ObjHeader *y) { return x->id < y->id; });
  std::string delta = encode_image(di, s.types, s.roots, dirty.objects, take_freed_ids());

  std::vector<std::unique_ptr<Image>> parts;
  parts.push_back(parse_image(base, "base"));
  parts.push_back(parse_image(delta, "delta"));
  auto merged = merge_chain(std::move(parts), "chain");
  EXPECT_EQ(merged->info.epoch, 2u);
  ASSERT_EQ(merged->objects.size(), 3u); // a, b, d
  EXPECT_LT(merged->find(c_id), 0);
  std::int64_t bi = merged->find(header_of(b)->id);
  ASSERT_GE(bi, 0);
  EXPECT_EQ(merged->objects[size_t(bi)].values[0].via.i64, 20);
  EXPECT_GE(merged->find(header_of(d)->id), 0);

  // A delta that does not follow the base is refused.
  std::vector<std::unique_ptr<Image>> bad;
  bad.push_back(parse_image(base, "base"));
  di.prev_epoch = 5;
  di.epoch = 6;
  bad.push_back(parse_image(encode_image(di, s.types, s.roots, {}, {}), "delta"));
  EXPECT_THROW(merge_chain(std::move(bad), "chain"), Error);

  // So is a delta that follows by epoch but belongs to another chain (another
  // run's checkpoints with the same epoch numbers).
  std::vector<std::unique_ptr<Image>> other;
  other.push_back(parse_image(base, "base"));
  di.prev_epoch = 1;
  di.epoch = 2;
  di.chain_id = 77;
  other.push_back(parse_image(encode_image(di, s.types, s.roots, {}, {}), "delta"));
  EXPECT_THROW(merge_chain(std::move(other), "chain"), Error);
  EXPECT_THROW(parse_link(encode_image(di, s.types, s.roots, {}, {}), "delta", 1, 0), OtherChain);
  cstest::root_node = nullptr;
  delete a;
  delete b;
  delete d;
}

// A chain whose merge does not validate (here: a delta frees an object that a
// reachable, unchanged object still points to) resumes at the longest prefix
// that does, with a note, instead of not at all.
TEST(Chain, AChainThatDoesNotValidateEndsAtItsLongestValidPrefix) {
  auto &s = cstest::registered();
  std::string dir = (std::filesystem::temp_directory_path() /
                     ("checksync-chain-test-" + std::to_string(getpid())))
                        .string();
  std::filesystem::remove_all(dir);
  Node *a = cstest::new_node(1), *b = cstest::new_node(2);
  a->next = b;
  cstest::root_node = a;
  ImageInfo info;
  info.epoch = 1;
  info.chain_id = 5;
  {
    DirStore store(dir);
    store.write(1, true, encode_full(info, s.types, s.roots,
                                     mark_from_roots(s.types, s.roots, stamp())));
    ImageInfo di = info;
    di.kind = "delta";
    di.epoch = 2;
    di.prev_epoch = 1;
    store.write(2, false, encode_image(di, s.types, s.roots, {}, {}));
    std::uint64_t b_id = header_of(b)->id;
    di.epoch = 3;
    di.prev_epoch = 2;
    store.write(3, false, encode_image(di, s.types, s.roots, {}, {b_id})); // a still -> b
  }
  std::string note;
  auto img = load_chain(dir, &note);
  EXPECT_EQ(img->info.epoch, 2u);
  EXPECT_NE(note.find("delta-00000000000000000003.csk"), std::string::npos) << note;
  EXPECT_NE(note.find("not in the checkpoint"), std::string::npos) << note;
  cstest::root_node = nullptr;
  delete a;
  delete b;
  std::filesystem::remove_all(dir);
}

// The caller's pause has no sort: objects come in address order, each once,
// also when a large object reaches into several marked cards between
// smaller ones (the encoder sorts by id on its thread).
TEST(Dirty, ObjectsComeInAddressOrderWithoutDuplicates) {
  std::vector<Node *> nodes;
  for (int i = 0; i < 300; ++i)
    nodes.push_back(cstest::new_node(i));
  auto *arr = static_cast<Node *>(heap_alloc(cstest::node_type(), sizeof(Node), alignof(Node), 40));
  for (int i = 0; i < 300; ++i)
    nodes.push_back(cstest::new_node(i));
  collect_dirty(stamp());
  for (std::size_t i = 0; i < nodes.size(); i += 3)
    checksync_rt_mark_range(&nodes[i]->weight, sizeof(double));
  for (int e = 0; e < 40; e += 7)
    checksync_rt_mark_range(&arr[e].other, sizeof(void *));
  DirtySet d = collect_dirty(stamp());
  EXPECT_TRUE(std::is_sorted(d.objects.begin(), d.objects.end()));
  EXPECT_EQ(std::adjacent_find(d.objects.begin(), d.objects.end()), d.objects.end());
  EXPECT_TRUE(std::find(d.objects.begin(), d.objects.end(), header_of(arr)) != d.objects.end());
  for (std::size_t i = 0; i < nodes.size(); i += 3)
    EXPECT_TRUE(std::find(d.objects.begin(), d.objects.end(), header_of(nodes[i])) !=
                d.objects.end());
  heap_free(arr);
  for (Node *n : nodes)
    delete n;
}
