// Randomised differential test of library values: for many seeds, fill
// persistent objects with random strings (empty, short, long, binary),
// vectors, deques, maps and unordered maps (incl. refs), sets, optionals,
// tuples, arrays, unique_ptrs and shared_ptrs; checkpoint, SIGKILL, resume,
// and compare a canonical dump.
//
// RUN: %cs_cxx %s -o %t %cs_ldflags
// RUN: for seed in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do \
// RUN:   rm -rf %t.d; env CHECKSYNC_DIR=%t.d not --crash %t run $seed > %t.first || exit 1; \
// RUN:   %csrt resume --from %t.d -- %t verify $seed > %t.second || exit 1; \
// RUN:   test -s %t.first || exit 1; \
// RUN:   cmp -s %t.first %t.second || { echo "seed $seed differs"; diff %t.first %t.second | head; exit 1; }; \
// RUN: done
#include <checksync/checksync.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
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

std::mt19937_64 rng;
static std::string rstr() {
  switch (rng() % 4) {
  case 0: return "";
  case 1: return std::string(1 + rng() % 10, char('a' + rng() % 26));
  case 2: { std::string s(rng() % 300, '\0'); for (auto &c : s) c = char(rng()); return s; }
  default: return std::string(16 + rng() % 40, char('A' + rng() % 26));
  }
}

static std::string dump() {
  std::map<const void *, int> ids;
  auto id = [&](const void *p) {
    if (!p) return std::string("null");
    return "@" + std::to_string(ids.emplace(p, int(ids.size())).first->second);
  };
  std::ostringstream os;
  auto node = [&](const Node *n) {
    os << id(n);
    if (n) { os << "{" << n->key << ","; for (unsigned char c : n->name) os << int(c) << "."; os << "}"; }
  };
  auto str = [&](const std::string &s) { for (unsigned char c : s) os << int(c) << "."; os << "|"; };
  os << "nodes:";
  for (Node *n : nodes_root) node(n);
  os << "\n";
  for (const Bag *b = bags; b; b = b->next) {
    os << "bag " << id(b) << "\ns="; str(b->s);
    os << "\nv="; for (auto x : b->v) os << x << ",";
    os << "\ndq="; for (auto x : b->dq) os << x << ",";
    os << "\nm="; for (auto &[k, vs] : b->m) { str(k); for (auto *n : vs) node(n); os << ";"; }
    os << "\num="; std::map<std::int32_t, std::string> um(b->um.begin(), b->um.end());
    for (auto &[k, v] : um) { os << k << ":"; str(v); }
    os << "\nrefs="; std::map<std::string, Node *> rf(b->refs.begin(), b->refs.end());
    for (auto &[k, v] : rf) { str(k); node(v); }
    os << "\nst="; for (auto x : b->st) os << x << ",";
    os << "\nov=" << b->ov.has_value() << ":"; if (b->ov) for (auto &s : *b->ov) str(s);
    os << "\ntup=" << int(std::get<0>(b->tup)) << ","; str(std::get<1>(b->tup)); node(std::get<2>(b->tup));
    os << "\narr="; for (auto &s : b->arr) str(s);
    os << "\npairs="; for (auto &p : b->pairs) { os << p.a << ":"; str(p.b); }
    os << "\nup="; node(b->up.get());
    os << "\nsp="; node(b->sp1.get()); os << (b->sp1 == b->sp2) << ":" << b->sp1.use_count();
    os << "\nbits="; for (bool x : b->bits) os << x;
    os << "\n";
  }
  return os.str();
}

int main(int argc, char **argv) {
  checksync::init();
  if (argc < 3) return 2;
  if (!std::strcmp(argv[1], "verify")) {
    if (!checksync::resumed()) return 1;
    std::fputs(dump().c_str(), stdout);
    return 0;
  }
  rng.seed(std::stoul(argv[2]));
  int nn = 1 + int(rng() % 60);
  for (int i = 0; i < nn; ++i)
    nodes_root.push_back(new Node{std::int64_t(rng()), rstr(), nullptr});
  for (Node *n : nodes_root)
    n->next = rng() % 2 ? nodes_root[rng() % nn] : nullptr;
  auto pick = [&]() -> Node * { return rng() % 5 ? nodes_root[rng() % nn] : nullptr; };
  int nb = 1 + int(rng() % 5);
  for (int b = 0; b < nb; ++b) {
    Bag *g = new Bag{};
    g->s = rstr();
    for (int i = int(rng() % 50); i > 0; --i) g->v.push_back(std::int64_t(rng()));
    for (int i = int(rng() % 20); i > 0; --i) g->dq.push_back(double(std::int64_t(rng() % 100000)) / 8);
    for (int i = int(rng() % 8); i > 0; --i) { auto &vs = g->m[rstr()]; for (int j = int(rng() % 4); j > 0; --j) vs.push_back(pick()); }
    for (int i = int(rng() % 30); i > 0; --i) g->um[std::int32_t(rng())] = rstr();
    for (int i = int(rng() % 10); i > 0; --i) g->refs[rstr()] = pick();
    for (int i = int(rng() % 10); i > 0; --i) g->st.insert(std::uint16_t(rng()));
    if (rng() % 2) { g->ov.emplace(); for (int i = int(rng() % 4); i > 0; --i) g->ov->push_back(rstr()); }
    g->tup = {std::int8_t(rng()), rstr(), pick()};
    for (auto &s : g->arr) s = rstr();
    for (int i = int(rng() % 5); i > 0; --i) g->pairs.push_back(Pair{std::int32_t(rng()), rstr()});
    if (rng() % 2) g->up = std::make_unique<Node>(Node{-1, rstr(), pick()});
    if (rng() % 2) { g->sp1 = std::shared_ptr<Node>(new Node{-2, rstr(), nullptr}); g->sp2 = g->sp1; }
    for (int i = int(rng() % 70); i > 0; --i) g->bits.push_back(rng() % 2);
    g->next = bags;
    bags = g;
  }
  std::uint64_t e = checksync::checkpoint();
  if (!checksync::wait_durable(e)) return 3;
  std::fputs(dump().c_str(), stdout);
  std::fflush(stdout);
  bags->s = "unacknowledged";
  std::raise(SIGKILL);
}
