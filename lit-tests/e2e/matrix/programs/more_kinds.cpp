// The library kinds added for issue 14: list, forward_list, multimap, multiset, their unordered
// forms, queue, stack, priority_queue (with a stated comparator and
// container), bitset, complex, variant (with monostate, a ref and a
// persistent record among its alternatives), stateless comparators and
// hashers (std::greater<K>, std::less<>, a user's empty function objects),
// and const elements (pair<const K, V>, optional<const T>, array<const T, N>).
// Edited a little each round; the digest walks everything in a fixed order.
#include "../matrix.h"

#include <algorithm>
#include <array>
#include <bitset>
#include <complex>
#include <deque>
#include <forward_list>
#include <list>
#include <functional>
#include <map>
#include <optional>
#include <queue>
#include <set>
#include <stack>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

struct [[checksync::persistent]] Item {
  std::int64_t id;
  std::string label;
};

struct [[checksync::persistent]] Point {
  std::int32_t x, y;
};

// Empty, default-constructible function objects: rebuilt faithfully.
struct ByLength {
  bool operator()(const std::string &a, const std::string &b) const {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  }
};
struct ModHash {
  std::size_t operator()(std::int64_t k) const { return std::size_t(k % 97); }
};

using Alt = std::variant<std::monostate, std::int64_t, std::string, Item *, Point>;

struct [[checksync::persistent]] Kinds {
  std::multimap<std::int32_t, std::string> mm;
  std::multiset<std::int16_t, std::greater<std::int16_t>> ms;
  std::unordered_multimap<std::string, Item *> umm;
  std::unordered_multiset<std::int64_t, ModHash> ums;
  std::map<std::string, int, ByLength> by_len;
  std::set<std::string, std::less<>> transparent;
  std::queue<Item *> fifo;
  std::stack<std::int32_t, std::vector<std::int32_t>> lifo;
  std::priority_queue<std::int64_t, std::vector<std::int64_t>, std::greater<std::int64_t>> heap;
  std::bitset<77> bits;
  std::complex<double> z;
  std::vector<Alt> alts;
  std::vector<std::pair<const std::string, std::int32_t>> const_pairs;
  std::optional<const std::int64_t> const_opt;
  std::array<const std::int8_t, 3> const_arr;
  std::list<Item *> recent; // most recent first, bounded (an LRU's list)
  std::forward_list<std::string> words;
  Kinds *next;
};

[[checksync::root]] Kinds *kinds = nullptr;
[[checksync::root]] std::vector<Item *> items;
[[checksync::root]] std::variant<std::monostate, Point, std::string> root_variant;

namespace {
std::string word(mx::Rng &rng) { return std::string(1 + rng.below(6), char('a' + rng.below(26))); }
Item *pick(mx::Rng &rng) {
  return rng.chance(80) && !items.empty() ? items[rng.below(items.size())] : nullptr;
}
Alt alt(mx::Rng &rng) {
  switch (rng.below(5)) {
  case 0: return std::monostate{};
  case 1: return std::int64_t(rng.next());
  case 2: return word(rng);
  case 3: return pick(rng);
  default: return Point{std::int32_t(rng.next()), std::int32_t(rng.below(1000))};
  }
}
// Const elements get their values at construction.
Kinds *make(mx::Rng &rng) {
  std::int64_t o = std::int64_t(rng.next());
  std::int8_t a = std::int8_t(rng.next()), b = std::int8_t(rng.next()), c = std::int8_t(rng.next());
  return new Kinds{.const_opt = o, .const_arr = {a, b, c}};
}
void edit(Kinds *k, mx::Rng &rng, bool all) {
  for (int op = all ? 15 : 1 + int(rng.below(3)); op > 0; --op) {
    switch (all ? op - 1 : rng.below(15)) {
    case 13: k->recent.push_front(pick(rng)); if (k->recent.size() > 6) k->recent.pop_back(); break;
    case 14: if (rng.chance(30) && !k->words.empty()) k->words.pop_front(); else k->words.push_front(word(rng)); break;
    case 0: k->mm.emplace(std::int32_t(rng.below(5)), word(rng)); break;
    case 1: if (!k->ms.empty() && rng.chance(30)) k->ms.erase(k->ms.begin()); else k->ms.insert(std::int16_t(rng.below(7))); break;
    case 2: k->umm.emplace(word(rng), pick(rng)); break;
    case 3: k->ums.insert(std::int64_t(rng.below(300))); break;
    case 4: k->by_len[word(rng)] = int(rng.below(100)); break;
    case 5: k->transparent.insert(word(rng)); break;
    case 6: if (!k->fifo.empty() && rng.chance(40)) k->fifo.pop(); else k->fifo.push(pick(rng)); break;
    case 7: if (!k->lifo.empty() && rng.chance(40)) k->lifo.pop(); else k->lifo.push(std::int32_t(rng.next())); break;
    case 8: if (!k->heap.empty() && rng.chance(30)) k->heap.pop(); else k->heap.push(std::int64_t(rng.below(1000))); break;
    case 9: k->bits.flip(rng.below(77)); break;
    case 10: k->z = {double(std::int64_t(rng.below(1000))) / 4, -double(rng.below(50))}; break;
    case 11: if (!k->alts.empty() && rng.chance(30)) k->alts[rng.below(k->alts.size())] = alt(rng); else k->alts.push_back(alt(rng)); break;
    default: k->const_pairs.emplace_back(word(rng), std::int32_t(rng.next()));
    }
  }
}
// Unordered containers: fold in a fixed order (resume rebuilds their order).
template <class T> struct unconst { using type = T; };
template <class K, class V> struct unconst<std::pair<const K, V>> { using type = std::pair<K, V>; };
template <class C, class Key>
std::vector<typename unconst<typename C::value_type>::type> sorted(const C &c, Key key) {
  std::vector<typename unconst<typename C::value_type>::type> v(c.begin(), c.end());
  std::sort(v.begin(), v.end(), [&](const auto &a, const auto &b) { return key(a) < key(b); });
  return v;
}
} // namespace

void mx_round(std::uint64_t, std::uint64_t round, mx::Rng &rng) {
  for (int i = round == 1 ? 20 : int(rng.below(3)); i > 0; --i)
    items.push_back(new Item{std::int64_t(rng.next()), word(rng)});
  for (int i = round == 1 ? 3 : int(rng.below(2)); i > 0; --i) {
    Kinds *k = make(rng);
    edit(k, rng, true);
    k->next = kinds;
    kinds = k;
  }
  for (Kinds *k = kinds; k; k = k->next)
    if (rng.chance(50))
      edit(k, rng, false);
  switch (rng.below(3)) {
  case 0: root_variant = std::monostate{}; break;
  case 1: root_variant = Point{std::int32_t(round), 7}; break;
  default: root_variant = word(rng);
  }
}

void mx_resumed(std::uint64_t, std::uint64_t) {}

void mx_digest(mx::Digest &d) {
  auto item = [&](const Item *n) {
    if (d.ref(n)) {
      d.i(n->id);
      d.str(n->label);
    }
  };
  d.u(items.size());
  for (const Item *n : items)
    item(n);
  auto alt_digest = [&](const auto &a) {
    d.u(a.index());
    std::visit([&](const auto &x) {
      using X = std::decay_t<decltype(x)>;
      if constexpr (std::is_same_v<X, std::int64_t>) d.i(x);
      else if constexpr (std::is_same_v<X, std::string>) d.str(x);
      else if constexpr (std::is_same_v<X, Item *>) item(x);
      else if constexpr (std::is_same_v<X, Point>) { d.i(x.x); d.i(x.y); }
    }, a);
  };
  alt_digest(root_variant);
  for (const Kinds *k = kinds; k; k = k->next) {
    d.ref(k);
    d.u(k->mm.size());
    for (auto &[key, v] : k->mm) { d.i(key); d.str(v); } // equal keys in insertion order
    d.u(k->ms.size());
    for (auto x : k->ms) d.i(x);
    auto umm = sorted(k->umm, [](const auto &e) { return std::make_pair(e.first, e.second ? e.second->id : 0); });
    d.u(umm.size());
    for (auto &[key, v] : umm) { d.str(key); item(v); }
    auto ums = sorted(k->ums, [](std::int64_t x) { return x; });
    d.u(ums.size());
    for (auto x : ums) d.i(x);
    d.u(k->by_len.size());
    for (auto &[key, v] : k->by_len) { d.str(key); d.i(v); }
    d.u(k->transparent.size());
    for (auto &s : k->transparent) d.str(s);
    std::queue<Item *> fifo = k->fifo;
    d.u(fifo.size());
    for (; !fifo.empty(); fifo.pop()) item(fifo.front());
    std::stack<std::int32_t, std::vector<std::int32_t>> lifo = k->lifo;
    d.u(lifo.size());
    for (; !lifo.empty(); lifo.pop()) d.i(lifo.top());
    auto heap = k->heap;
    d.u(heap.size());
    for (; !heap.empty(); heap.pop()) d.i(heap.top());
    d.str(k->bits.to_string());
    d.f(k->z.real());
    d.f(k->z.imag());
    d.u(k->alts.size());
    for (auto &a : k->alts) alt_digest(a);
    d.u(k->const_pairs.size());
    for (auto &[key, v] : k->const_pairs) { d.str(key); d.i(v); }
    d.u(k->const_opt.has_value());
    if (k->const_opt) d.i(*k->const_opt);
    for (auto x : k->const_arr) d.i(x);
    d.u(k->recent.size());
    for (const Item *n : k->recent) item(n);
    for (const auto &w : k->words) d.str(w);
  }
}
