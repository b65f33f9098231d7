#include "heap/marker.h"
#include "test_types.h"

#include <gtest/gtest.h>

using namespace checksync::detail;
using cstest::Node;

namespace {
std::uint32_t next_mark() {
  static std::uint32_t m = 100;
  return ++m;
}
MarkResult mark() {
  auto &s = cstest::registered();
  return mark_from_roots(s.types, s.roots, next_mark());
}
} // namespace

TEST(Marker, FollowsRefsThroughCyclesOnce) {
  Node *a = cstest::new_node(1), *b = cstest::new_node(2), *c = cstest::new_node(3);
  a->next = b;
  b->next = c;
  c->next = a; // cycle
  a->other = c; // sharing
  cstest::root_node = a;
  MarkResult r = mark();
  EXPECT_EQ(r.objects.size(), 3u);
  EXPECT_EQ(r.payload_bytes, 3 * sizeof(Node));
  for (size_t i = 1; i < r.objects.size(); ++i)
    EXPECT_LT(r.objects[i - 1]->id, r.objects[i]->id);
  cstest::root_node = nullptr;
  delete a;
  delete b;
  delete c;
}

TEST(Marker, UnreachableObjectsAreNotMarked) {
  Node *a = cstest::new_node(1), *garbage = cstest::new_node(2);
  garbage->next = a; // points in, but nothing points to it
  cstest::root_node = a;
  MarkResult r = mark();
  ASSERT_EQ(r.objects.size(), 1u);
  EXPECT_EQ(r.objects[0], header_of(a));
  cstest::root_node = nullptr;
  delete a;
  delete garbage;
}

TEST(Marker, NullRootMarksNothing) {
  cstest::root_node = nullptr;
  EXPECT_TRUE(mark().objects.empty());
}

TEST(Marker, RefToNonPersistentMemoryIsAnErrorNamingTheField) {
  Node *a = cstest::new_node(1);
  Node on_stack{};
  a->other = &on_stack;
  cstest::root_node = a;
  try {
    mark();
    FAIL() << "expected an error";
  } catch (const Error &e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("field other"), std::string::npos) << msg;
    EXPECT_NE(msg.find("does not point into a persistent object"), std::string::npos) << msg;
  }
  cstest::root_node = nullptr;
  delete a;
}

TEST(Marker, InteriorPointersMarkTheirObject) {
  Node *a = cstest::new_node(1), *b = cstest::new_node(2);
  a->next = reinterpret_cast<Node *>(&b->weight); // e.g. a base subobject
  cstest::root_node = a;
  MarkResult r = mark();
  ASSERT_EQ(r.objects.size(), 2u);
  std::uint64_t off = 99;
  EXPECT_EQ(find_object(&b->weight, &off), header_of(b));
  EXPECT_EQ(off, offsetof(Node, weight));
  EXPECT_EQ(find_object(b + 1, &off), header_of(b)); // one past the end
  EXPECT_EQ(off, sizeof(Node));
  cstest::root_node = nullptr;
  delete a;
  delete b;
}

TEST(Marker, PointerToAFreedObjectIsAnError) {
  Node *a = cstest::new_node(1), *b = cstest::new_node(2);
  a->next = b;
  delete b;
  cstest::root_node = a;
  EXPECT_THROW(mark(), Error);
  cstest::root_node = nullptr;
  delete a;
}

TEST(Marker, FieldPathNamesNestedAndArrayFields) {
  auto &s = cstest::registered();
  std::int64_t node = -1;
  for (size_t i = 0; i < s.types.size(); ++i)
    if (s.types[i].name == "cstest::Node")
      node = std::int64_t(i);
  ASSERT_GE(node, 0);
  EXPECT_EQ(field_path(s.types, node, offsetof(Node, next)), "next");
  EXPECT_EQ(field_path(s.types, node, offsetof(Node, small) + 2), "small[1]");
  EXPECT_EQ(field_path(s.types, node, offsetof(Node, pair) + 4), "pair.b");
}
