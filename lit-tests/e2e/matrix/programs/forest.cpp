// Port of tree_ring_garbage (Inputs/forest.h): a binary search tree (records
// by value, a char array, an enum, a transient field), a ring with a cycle
// whose nodes point into the tree, scalar and record roots, and garbage every
// round (never linked; ring-shaped garbage pointing into the live ring; freed
// at once). Rounds insert and delete tree keys (a deleted key's node is
// unlinked from the tree and every ring `favourite` to it is cleared, while
// older garbage may still point to it), grow and shrink the ring and edit
// values. The transient `cache` fields must be null after a resume.
#include "../matrix.h"

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

namespace {

int cache_target = 5;

TreeNode *make_node(std::int64_t key, mx::Rng &rng) {
  TreeNode *n = new TreeNode{};
  n->key = key;
  n->value = rng.chance(20) ? rng.special_double() : double(key) / 3.0;
  n->color = Color(1 + (key % 3 + 3) % 3);
  std::snprintf(n->label, sizeof n->label, "k%lld", (long long)key);
  n->where = {float(key), -float(key)};
  if (rng.chance(30))
    n->cache = &cache_target; // transient: not written
  return n;
}

TreeNode *insert(TreeNode *t, std::int64_t key, mx::Rng &rng) {
  if (!t)
    return make_node(key, rng);
  if (key < t->key)
    t->left = insert(t->left, key, rng);
  else if (key > t->key)
    t->right = insert(t->right, key, rng);
  else
    t->value += 1;
  return t;
}

void in_order(TreeNode *t, std::vector<TreeNode *> &out) {
  if (!t)
    return;
  in_order(t->left, out);
  out.push_back(t);
  in_order(t->right, out);
}

// Unlinks the node with `key` from the tree (the classic BST delete: a node
// with two children is replaced by its in-order successor node, moved, not
// copied) and returns it, or null.
TreeNode *unlink(TreeNode *&t, std::int64_t key) {
  TreeNode **p = &t;
  while (*p && (*p)->key != key)
    p = key < (*p)->key ? &(*p)->left : &(*p)->right;
  TreeNode *n = *p;
  if (!n)
    return nullptr;
  if (!n->left) {
    *p = n->right;
  } else if (!n->right) {
    *p = n->left;
  } else {
    TreeNode **s = &n->right;
    while ((*s)->left)
      s = &(*s)->left;
    TreeNode *succ = *s;
    *s = succ->right;
    succ->left = n->left;
    succ->right = n->right;
    *p = succ;
  }
  return n;
}

std::vector<RingNode *> ring_nodes() {
  std::vector<RingNode *> out;
  for (RingNode *r = ring; r && out.size() < 100000; r = r->next) {
    out.push_back(r);
    if (r->next == ring)
      break;
  }
  return out;
}

void ring_push(std::uint32_t seq, TreeNode *favourite) {
  RingNode *n = new RingNode{};
  n->seq = seq;
  for (int i = 0; i < 4; ++i)
    n->history[i] = std::int16_t(seq * (i + 1) - 500);
  n->flag = seq % 2;
  n->favourite = favourite;
  if (!ring) {
    n->next = n;
    ring = n;
  } else {
    n->next = ring->next;
    ring->next = n;
  }
}

bool transients_are_null(const TreeNode *t) {
  return !t || (!t->cache && transients_are_null(t->left) && transients_are_null(t->right));
}

} // namespace

void mx_round(std::uint64_t, std::uint64_t round, mx::Rng &rng) {
  ++rounds;
  origin = {origin.x + 1.5f, rng.special_float()};
  // Tree: inserts (200 in round 1), a few deletes.
  for (int i = round == 1 ? 200 : 5 + int(rng.below(20)); i > 0; --i)
    tree = insert(tree, std::int64_t(rng.below(100000)) - 1000, rng);
  std::vector<TreeNode *> nodes;
  in_order(tree, nodes);
  for (int i = int(rng.below(6)); i > 0 && nodes.size() > 10; --i) {
    TreeNode *victim = unlink(tree, nodes[rng.below(nodes.size())]->key);
    if (!victim)
      continue;
    for (RingNode *r : ring_nodes())
      if (r->favourite == victim)
        r->favourite = nullptr; // garbage rings may still point to it
    for (auto it = nodes.begin(); it != nodes.end(); ++it)
      if (*it == victim) {
        nodes.erase(it);
        break;
      }
    delete victim;
  }
  for (int i = int(rng.below(10)); i > 0; --i) { // in-place edits
    TreeNode *n = nodes[rng.below(nodes.size())];
    n->value = rng.chance(50) ? rng.special_double() : n->value * 2;
    n->label[rng.below(11)] = char('a' + rng.below(26));
    n->where.y = rng.special_float();
  }
  // Ring: pushes (50 in round 1), removals of the node after the head.
  for (int i = round == 1 ? 50 : int(rng.below(8)); i > 0; --i)
    ring_push(std::uint32_t(round * 1000 + i), nodes[rng.below(nodes.size())]);
  for (int i = int(rng.below(4)); i > 0; --i) {
    if (!ring || ring->next == ring)
      break;
    RingNode *gone = ring->next;
    ring->next = gone->next;
    delete gone;
  }
  for (RingNode *r : ring_nodes())
    if (rng.chance(10)) {
      r->history[rng.below(4)] = std::int16_t(rng.next());
      r->flag = !r->flag;
    }
  if (ring && rng.chance(30))
    ring = ring->next; // a new head: the cycle is entered elsewhere
  // Garbage: never linked (unwritten), ring-shaped garbage pointing into the
  // live state, and objects freed at once.
  for (int i = round == 1 ? 200 : int(rng.below(30)); i > 0; --i)
    new TreeNode{};
  for (int i = round == 1 ? 50 : int(rng.below(10)); i > 0; --i) {
    auto *g = new RingNode{};
    g->next = ring;
    g->favourite = nodes[rng.below(nodes.size())];
  }
  for (int i = 60; i > 0; --i)
    delete new TreeNode{};
}

void mx_resumed(std::uint64_t, std::uint64_t) {
  if (!transients_are_null(tree)) {
    std::printf("error: a transient field survived the resume\n");
    std::exit(11);
  }
}

void mx_digest(mx::Digest &d) {
  d.i(rounds);
  d.f(origin.x);
  d.f(origin.y);
  std::vector<const TreeNode *> stack{tree};
  std::uint64_t tree_nodes = 0;
  while (!stack.empty()) {
    const TreeNode *n = stack.back();
    stack.pop_back();
    if (!d.ref(n))
      continue;
    ++tree_nodes;
    d.i(n->key);
    d.f(n->value);
    d.u(std::uint64_t(n->color));
    d.bytes(n->label, sizeof n->label);
    d.f(n->where.x);
    d.f(n->where.y);
    stack.push_back(n->right);
    stack.push_back(n->left);
  }
  d.u(tree_nodes);
  std::uint64_t ring_count = 0;
  for (const RingNode *r = ring; r && ring_count < 100000; r = r->next) {
    ++ring_count;
    d.ref(r);
    d.u(r->seq);
    for (auto v : r->history)
      d.i(v);
    d.u(r->flag);
    d.ref(r->favourite);
    if (r->next == ring)
      break;
  }
  d.u(ring_count);
}
