// test_types.h - persistent types for unit tests, described by hand with the
// same ABI descriptors the pass emits, and registered once.
#ifndef CHECKSYNC_TESTS_TEST_TYPES_H
#define CHECKSYNC_TESTS_TEST_TYPES_H

#include "heap/heap.h"
#include "schema/registry.h"

#include <cstdint>

namespace cstest {

struct Pair {
  std::int32_t a;
  float b;
};

struct Node {
  std::int64_t key;
  Node *next;
  Node *other;
  double weight;
  std::uint8_t tag[5];
  std::int16_t small[3];
  Pair pair;
  void *scratch; // transient: not in the schema
};

extern Node *root_node;       // [[checksync::root]] Node *root_node
extern std::int64_t root_counter; // [[checksync::root]] std::int64_t root_counter
extern Pair root_pair;        // [[checksync::root]] Pair root_pair

// Registers the module (idempotent) and returns the registry snapshot.
const checksync::detail::Snapshot &registered();
std::uint32_t node_type();
std::uint32_t pair_type();

// new Node, as instrumented code does it.
Node *new_node(std::int64_t key);

} // namespace cstest

#endif
