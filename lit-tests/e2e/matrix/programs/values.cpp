// Port of the former random_values test: library values in persistent objects - strings
// (empty, SSO, long, binary with NULs), vectors, deques, maps and unordered
// maps (with refs), sets, optionals, tuples, arrays, unique_ptr and
// shared_ptr of persistent types, vector<bool> - edited a little each round.
#include "../matrix.h"

#include <array>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

struct [[checksync::persistent]] Node {
  std::int64_t key;
  std::string name;
  Node *next;
};

struct [[checksync::persistent]] Pair {
  std::int32_t a;
  std::string b;
};

struct [[checksync::persistent]] Bag {
  std::string s;
  std::vector<std::int64_t> v;
  std::deque<double> dq;
  std::map<std::string, std::vector<Node *>> m;
  std::unordered_map<std::int32_t, std::string> um;
  std::unordered_map<std::string, Node *> refs;
  std::set<std::uint16_t> st;
  std::optional<std::vector<std::string>> ov;
  std::tuple<std::int8_t, std::string, Node *> tup;
  std::array<std::string, 3> arr;
  std::vector<Pair> pairs;
  std::unique_ptr<Node> up;
  std::shared_ptr<Node> sp1, sp2;
  std::vector<bool> bits;
  Bag *next;
};

[[checksync::root]] Bag *bags = nullptr;
[[checksync::root]] std::vector<Node *> nodes_root;

// The order of an unordered container changes when a resume rebuilds it:
// choices must not depend on it, or a resumed run takes another history.
template <class M> typename M::iterator smallest_key(M &m) {
  auto best = m.begin();
  for (auto it = m.begin(); it != m.end(); ++it)
    if (it->first < best->first)
      best = it;
  return best;
}

namespace {
std::string rstr(mx::Rng &rng) {
  switch (rng.below(4)) {
  case 0: return "";
  case 1: return std::string(1 + rng.below(10), char('a' + rng.below(26)));
  case 2: return rng.bytes(300);
  default: return std::string(16 + rng.below(40), char('A' + rng.below(26)));
  }
}
Node *pick(mx::Rng &rng) {
  return rng.chance(80) && !nodes_root.empty() ? nodes_root[rng.below(nodes_root.size())]
                                               : nullptr;
}
void edit(Bag *g, mx::Rng &rng, bool all) {
  for (int op = all ? 14 : 1 + int(rng.below(3)); op > 0; --op) {
    switch (all ? op - 1 : rng.below(14)) {
    case 0: g->s = rstr(rng); break;
    case 1: for (int i = int(rng.below(50)); i > 0; --i) g->v.push_back(std::int64_t(rng.next())); break;
    case 2: for (int i = int(rng.below(20)); i > 0; --i) g->dq.push_back(double(std::int64_t(rng.below(100000))) / 8); break;
    case 3: { auto &vs = g->m[rstr(rng)]; for (int j = int(rng.below(4)); j > 0; --j) vs.push_back(pick(rng)); } break;
    case 4: for (int i = int(rng.below(30)); i > 0; --i) g->um[std::int32_t(rng.next())] = rstr(rng); break;
    case 5: if (!g->refs.empty() && rng.chance(30)) g->refs.erase(smallest_key(g->refs)); else g->refs[rstr(rng)] = pick(rng); break;
    case 6: g->st.insert(std::uint16_t(rng.next())); break;
    case 7: if (rng.chance(30)) g->ov.reset(); else { g->ov.emplace(); for (int i = int(rng.below(4)); i > 0; --i) g->ov->push_back(rstr(rng)); } break;
    case 8: g->tup = {std::int8_t(rng.next()), rstr(rng), pick(rng)}; break;
    case 9: g->arr[rng.below(3)] = rstr(rng); break;
    case 10: g->pairs.push_back(Pair{std::int32_t(rng.next()), rstr(rng)}); break;
    case 11: if (rng.chance(50)) g->up = std::make_unique<Node>(Node{-1, rstr(rng), pick(rng)}); else g->up.reset(); break;
    case 12: if (rng.chance(50)) { g->sp1 = std::shared_ptr<Node>(new Node{-2, rstr(rng), nullptr}); g->sp2 = g->sp1; } else { g->sp2.reset(); } break;
    default: for (int i = int(rng.below(70)); i > 0; --i) g->bits.push_back(rng.chance(50));
    }
  }
}
} // namespace

void mx_round(std::uint64_t, std::uint64_t round, mx::Rng &rng) {
  for (int i = round == 1 ? 30 : int(rng.below(4)); i > 0; --i)
    nodes_root.push_back(new Node{std::int64_t(rng.next()), rstr(rng), nullptr});
  for (int i = int(rng.below(4)); i > 0; --i)
    nodes_root[rng.below(nodes_root.size())]->next = pick(rng);
  for (int i = round == 1 ? 3 : int(rng.below(2)); i > 0; --i) {
    Bag *g = new Bag{};
    edit(g, rng, true);
    g->next = bags;
    bags = g;
  }
  for (Bag *g = bags; g; g = g->next)
    if (rng.chance(40))
      edit(g, rng, false);
}

void mx_resumed(std::uint64_t, std::uint64_t) {}

void mx_digest(mx::Digest &d) {
  auto node = [&](const Node *n) {
    if (d.ref(n)) {
      d.i(n->key);
      d.str(n->name);
      d.ref(n->next); // numbered; its fields are folded where it is listed
    }
  };
  d.u(nodes_root.size());
  for (Node *n : nodes_root)
    node(n);
  for (const Bag *b = bags; b; b = b->next) {
    d.ref(b);
    d.str(b->s);
    d.u(b->v.size());
    for (auto x : b->v) d.i(x);
    d.u(b->dq.size());
    for (auto x : b->dq) d.f(x);
    d.u(b->m.size());
    for (auto &[k, vs] : b->m) { d.str(k); d.u(vs.size()); for (auto *n : vs) node(n); }
    std::map<std::int32_t, std::string> um(b->um.begin(), b->um.end());
    d.u(um.size());
    for (auto &[k, v] : um) { d.i(k); d.str(v); }
    std::map<std::string, Node *> rf(b->refs.begin(), b->refs.end());
    d.u(rf.size());
    for (auto &[k, v] : rf) { d.str(k); node(v); }
    d.u(b->st.size());
    for (auto x : b->st) d.u(x);
    d.u(b->ov.has_value());
    if (b->ov) { d.u(b->ov->size()); for (auto &s : *b->ov) d.str(s); }
    d.i(std::get<0>(b->tup)); d.str(std::get<1>(b->tup)); node(std::get<2>(b->tup));
    for (auto &s : b->arr) d.str(s);
    d.u(b->pairs.size());
    for (auto &p : b->pairs) { d.i(p.a); d.str(p.b); }
    node(b->up.get());
    node(b->sp1.get());
    node(b->sp2.get());
    d.u(b->sp1.use_count());
    d.u(b->bits.size());
    for (bool x : b->bits) d.u(x);
  }
  d.ref(nullptr);
}
