// Port of random_graphs: a random graph with cycles and sharing (refs in
// arrays, a root array of refs, a `new Leaf[n]` array root, records by value
// with refs), garbage each round (allocated and never linked, linked then
// unlinked) and deletes of reachable vertices (every ref to them cleared).
#include "../matrix.h"

#include <vector>

struct Leaf;
struct [[checksync::persistent]] Vertex {
  std::uint64_t label;
  std::int32_t weight[3];
  double score;
  Vertex *edges[4];
  Leaf *leaf;
  unsigned char tag;
};

struct [[checksync::persistent]] Leaf {
  std::int8_t small;
  std::uint16_t medium;
  float ratio;
  Vertex *back;
};

struct [[checksync::persistent]] Bundle {
  Leaf first;
  Leaf rest[2];
};

[[checksync::root]] Vertex *entry = nullptr;
[[checksync::root]] Vertex *pool[8] = {};
[[checksync::root]] Leaf *leaves = nullptr; // new Leaf[leaf_count]
[[checksync::root]] std::uint64_t leaf_count = 0;
[[checksync::root]] Bundle bundle = {};

namespace {
// The reachable vertices in a canonical order (breadth first from the roots).
std::vector<Vertex *> reachable() {
  std::vector<Vertex *> out;
  std::vector<const void *> seen;
  mx::Digest order; // only for its discovery numbering
  auto add = [&](Vertex *v) {
    if (v && order.ref(v))
      out.push_back(v);
  };
  add(entry);
  for (Vertex *v : pool)
    add(v);
  add(bundle.first.back);
  for (auto &l : bundle.rest)
    add(l.back);
  for (std::uint64_t i = 0; i < leaf_count; ++i)
    add(leaves[i].back);
  for (std::size_t i = 0; i < out.size(); ++i) {
    for (Vertex *e : out[i]->edges)
      add(e);
    if (out[i]->leaf)
      add(out[i]->leaf->back);
  }
  return out;
}

void randomise(Vertex *v, mx::Rng &rng, const std::vector<Vertex *> &vs) {
  v->label = rng.next();
  for (auto &w : v->weight)
    w = std::int32_t(rng.next());
  v->score = rng.chance(30) ? -0.0 : double(std::int64_t(rng.next() % 2000000)) / 1e3;
  v->tag = (unsigned char)rng.next();
  for (auto &e : v->edges)
    e = !vs.empty() && rng.chance(60) ? vs[rng.below(vs.size())] : nullptr;
}
} // namespace

void mx_round(std::uint64_t, std::uint64_t round, mx::Rng &rng) {
  std::vector<Vertex *> vs = reachable();
  // New vertices, linked from roots and from old vertices (cycles, sharing).
  std::vector<Vertex *> fresh;
  for (int i = round == 1 ? 200 : int(rng.below(30)); i > 0; --i)
    fresh.push_back(new Vertex{});
  vs.insert(vs.end(), fresh.begin(), fresh.end());
  for (Vertex *v : fresh) {
    randomise(v, rng, vs);
    if (rng.chance(25))
      v->leaf = new Leaf{std::int8_t(rng.next()), std::uint16_t(rng.next()),
                         float(rng.below(1000)) / 7.f, vs[rng.below(vs.size())]};
  }
  entry = vs[rng.below(vs.size())];
  pool[rng.below(8)] = rng.chance(70) ? vs[rng.below(vs.size())] : nullptr;
  for (int i = int(rng.below(20)); i > 0; --i) { // rewire old vertices
    Vertex *v = vs[rng.below(vs.size())];
    v->edges[rng.below(4)] = rng.chance(80) ? vs[rng.below(vs.size())] : nullptr;
    v->label ^= rng.next();
  }
  if (round == 1 || rng.chance(20)) { // replace the leaf array
    delete[] leaves;
    leaf_count = rng.below(20);
    leaves = leaf_count ? new Leaf[leaf_count] : nullptr;
    for (std::uint64_t i = 0; i < leaf_count; ++i)
      leaves[i] = Leaf{std::int8_t(-std::int64_t(i)), std::uint16_t(i), 0.5f,
                       vs[rng.below(vs.size())]};
  }
  bundle.first.back = vs[rng.below(vs.size())];
  bundle.rest[rng.below(2)].medium = std::uint16_t(round);
  // Garbage: never linked, or pointing into the live graph only.
  for (int i = int(rng.below(10)); i > 0; --i) {
    Vertex *g = new Vertex{};
    g->edges[0] = entry;
  }
  // Deletes: a reachable vertex, after clearing every reachable ref to it.
  if (rng.chance(60)) {
    std::vector<Vertex *> now = reachable();
    Vertex *victim = now[rng.below(now.size())];
    if (entry == victim)
      entry = nullptr;
    for (auto &p : pool)
      if (p == victim)
        p = nullptr;
    if (bundle.first.back == victim)
      bundle.first.back = nullptr;
    for (auto &l : bundle.rest)
      if (l.back == victim)
        l.back = nullptr;
    for (std::uint64_t i = 0; i < leaf_count; ++i)
      if (leaves[i].back == victim)
        leaves[i].back = nullptr;
    for (Vertex *v : now) {
      for (auto &e : v->edges)
        if (e == victim)
          e = nullptr;
      if (v->leaf && v->leaf->back == victim)
        v->leaf->back = nullptr;
    }
    for (Vertex *v : now) // leaves are shared by nobody: delete with the vertex
      if (v == victim && v->leaf)
        delete v->leaf;
    delete victim;
  }
}

void mx_resumed(std::uint64_t, std::uint64_t) {}

void mx_digest(mx::Digest &d) {
  std::vector<const Vertex *> work;
  auto vref = [&](const Vertex *v) {
    if (d.ref(v))
      work.push_back(v);
  };
  auto leaf = [&](const Leaf &l) {
    d.i(l.small);
    d.u(l.medium);
    d.f(l.ratio);
    vref(l.back);
  };
  vref(entry);
  for (Vertex *v : pool)
    vref(v);
  d.u(leaf_count);
  d.u(leaves != nullptr);
  leaf(bundle.first);
  for (auto &l : bundle.rest)
    leaf(l);
  for (std::uint64_t i = 0; i < leaf_count; ++i)
    leaf(leaves[i]);
  for (std::size_t i = 0; i < work.size(); ++i) {
    const Vertex *v = work[i];
    d.u(v->label);
    for (auto w : v->weight)
      d.i(w);
    d.f(v->score);
    for (auto *e : v->edges)
      vref(e);
    d.u(v->leaf != nullptr);
    if (v->leaf)
      leaf(*v->leaf);
    d.u(v->tag);
  }
}
