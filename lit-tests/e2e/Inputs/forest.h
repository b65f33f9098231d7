// forest.h - state for end-to-end tests: a binary search tree, a ring with a
// cycle, a scalar root and garbage. digest() is independent of addresses and
// ids, so a resumed process can compare it with the original's.
#include <checksync/checksync.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

enum class Color : std::uint8_t { Red = 1, Green = 2, Blue = 3 };

struct [[checksync::persistent]] Point {
  float x, y;
};

struct [[checksync::persistent]] TreeNode {
  std::int64_t key;
  double value;
  TreeNode *left;
  TreeNode *right;
  Color color;
  char label[12];
  Point where;
  [[checksync::transient]] int *cache; // never written; null after resume
};

struct RingNode;
struct [[checksync::persistent]] RingNode {
  std::uint32_t seq;
  std::int16_t history[4];
  bool flag;
  RingNode *next;
  TreeNode *favourite;
};

[[checksync::root]] TreeNode *tree = nullptr;
[[checksync::root]] RingNode *ring = nullptr;
[[checksync::root]] std::int64_t rounds = 0;
[[checksync::root]] Point origin = {0, 0};

inline std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h;
}

inline std::uint64_t bits(double d) {
  std::uint64_t b;
  std::memcpy(&b, &d, 8);
  return b;
}

inline std::string digest() {
  std::map<const void *, std::uint64_t> num;
  auto id = [&](const void *p) -> std::uint64_t {
    if (!p)
      return 0;
    return num.emplace(p, num.size() + 1).first->second;
  };
  std::uint64_t h = mix(std::uint64_t(rounds), bits(origin.x) ^ (bits(origin.y) << 1));
  std::uint64_t tree_nodes = 0, ring_nodes = 0;
  std::vector<const TreeNode *> stack{tree};
  while (!stack.empty()) {
    const TreeNode *n = stack.back();
    stack.pop_back();
    if (!n)
      continue;
    ++tree_nodes;
    h = mix(h, id(n));
    h = mix(h, std::uint64_t(n->key));
    h = mix(h, bits(n->value));
    h = mix(h, id(n->left));
    h = mix(h, id(n->right));
    h = mix(h, std::uint64_t(n->color));
    for (char c : n->label)
      h = mix(h, std::uint64_t(c));
    h = mix(h, bits(n->where.x) + bits(n->where.y));
    stack.push_back(n->right);
    stack.push_back(n->left);
  }
  const RingNode *r = ring;
  for (std::uint32_t i = 0; r && i < 1000000; ++i) {
    ++ring_nodes;
    h = mix(h, id(r));
    h = mix(h, r->seq);
    for (auto v : r->history)
      h = mix(h, std::uint64_t(std::uint16_t(v)));
    h = mix(h, r->flag);
    h = mix(h, id(r->favourite));
    r = r->next;
    if (r == ring)
      break;
  }
  char buf[128];
  std::snprintf(buf, sizeof buf, "rounds=%lld tree=%llu ring=%llu digest=%016llx",
                (long long)rounds, (unsigned long long)tree_nodes,
                (unsigned long long)ring_nodes, (unsigned long long)h);
  return buf;
}

// Transient fields are value-initialised (null) on resume.
inline bool transients_are_null(const TreeNode *t) {
  return !t || (!t->cache && transients_are_null(t->left) && transients_are_null(t->right));
}

inline TreeNode *tree_insert(TreeNode *t, std::int64_t key) {
  if (!t) {
    TreeNode *n = new TreeNode{};
    n->key = key;
    n->value = double(key) / 3.0;
    n->color = Color(1 + key % 3);
    std::snprintf(n->label, sizeof n->label, "k%lld", (long long)key);
    n->where = {float(key), -float(key)};
    return n;
  }
  if (key < t->key)
    t->left = tree_insert(t->left, key);
  else if (key > t->key)
    t->right = tree_insert(t->right, key);
  else
    t->value += 1;
  return t;
}

inline void ring_push(std::uint32_t seq) {
  RingNode *n = new RingNode{};
  n->seq = seq;
  for (int i = 0; i < 4; ++i)
    n->history[i] = std::int16_t(seq * (i + 1) - 500);
  n->flag = seq % 2;
  n->favourite = tree;
  if (!ring) {
    n->next = n;
    ring = n;
  } else {
    n->next = ring->next;
    ring->next = n;
  }
}
