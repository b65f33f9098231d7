// store.h - persistent state built from library types, inheritance and
// virtual classes, and a dump() that prints all of it independent of
// addresses (objects are numbered in discovery order).
#include <checksync/checksync.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

struct [[checksync::persistent]] Item {
  std::string name;
  std::int64_t qty;
};

struct [[checksync::persistent]] Stats {
  std::uint64_t hits, misses;
};

struct [[checksync::persistent]] Shape {
  virtual ~Shape() = default;
  virtual double area() const = 0;
  virtual const char *kind() const = 0;
  std::string label;
};

struct [[checksync::persistent]] Circle : Shape {
  double r = 0;
  double area() const override { return 3 * r * r; }
  const char *kind() const override { return "circle"; }
};

struct [[checksync::persistent]] Rect : Shape {
  double w = 0, h = 0;
  double area() const override { return w * h; }
  const char *kind() const override { return "rect"; }
};

struct [[checksync::persistent]] Named {
  std::string tag;
  std::int32_t rank;
};

// Multiple inheritance: the Shape subobject is not at offset 0.
struct [[checksync::persistent]] Badge : Named, Circle {
  std::vector<int> points;
  const char *kind() const override { return "badge"; }
};

struct [[checksync::persistent]] Store {
  std::string title_short, title_long;
  std::vector<int> numbers;
  std::map<std::string, std::int64_t> counters;
  std::unordered_map<std::string, Item *> items;
  std::optional<std::string> motto;
  std::optional<int> nothing;
  Stats stats;
  std::vector<std::unique_ptr<Item>> owned;
  std::unique_ptr<Item> featured;
  std::vector<Shape *> shapes;
  Named *named_view; // points at the Named base of a Badge
  std::shared_ptr<Item> shared_a, shared_b;
  std::deque<std::pair<int, std::string>> log;
  std::set<std::string> tags;
  std::array<std::uint16_t, 4> quad;
  std::chrono::milliseconds ttl;
  std::tuple<int, std::string, Item *> tup;
  [[checksync::transient]] std::mutex mu;
  [[checksync::transient]] std::string cache;
};

[[checksync::root]] Store *store = nullptr;
[[checksync::root]] std::map<std::string, Item *> global_index;

struct Dumper {
  std::map<const void *, int> ids;
  std::ostringstream os;
  std::string id(const void *p) {
    if (!p)
      return "null";
    auto [it, fresh] = ids.emplace(p, int(ids.size()));
    return "@" + std::to_string(it->second);
  }
  void item(const Item *i) {
    os << id(i);
    if (i)
      os << "{" << i->name << "," << i->qty << "}";
  }
  std::string dump() {
    const Store *s = store;
    if (!s)
      return "no store";
    os << "short=" << s->title_short << " long=" << s->title_long << "\n";
    os << "numbers=";
    for (int n : s->numbers)
      os << n << ",";
    os << "\ncounters=";
    for (auto &[k, v] : s->counters)
      os << k << ":" << v << ",";
    os << "\nitems=";
    std::map<std::string, const Item *> sorted(s->items.begin(), s->items.end());
    for (auto &[k, v] : sorted) {
      os << k << "->";
      item(v);
      os << ",";
    }
    os << "\nmotto=" << (s->motto ? *s->motto : "none") << " nothing=" << s->nothing.has_value();
    os << "\nstats=" << s->stats.hits << "/" << s->stats.misses;
    os << "\nowned=";
    for (auto &u : s->owned) {
      item(u.get());
      os << ",";
    }
    os << "\nfeatured=";
    item(s->featured.get());
    os << "\nshapes=";
    for (const Shape *sh : s->shapes)
      os << id(dynamic_cast<const void *>(sh)) << ":" << sh->kind() << ":" << sh->label << ":"
         << sh->area() << ",";
    os << "\nnamed_view=" << (s->named_view ? s->named_view->tag : "null") << " same_badge="
       << (s->named_view && static_cast<const Badge *>(s->named_view) ==
                                dynamic_cast<const Badge *>(s->shapes.back()));
    os << "\nshared=";
    item(s->shared_a.get());
    os << " same=" << (s->shared_a == s->shared_b) << " use_count=" << s->shared_a.use_count();
    os << "\nlog=";
    for (auto &[n, t] : s->log)
      os << n << ":" << t << ",";
    os << "\ntags=";
    for (auto &t : s->tags)
      os << t << ",";
    os << "\nquad=" << s->quad[0] << "," << s->quad[1] << "," << s->quad[2] << "," << s->quad[3];
    os << "\nttl=" << s->ttl.count();
    os << "\ntup=" << std::get<0>(s->tup) << "," << std::get<1>(s->tup) << ",";
    item(std::get<2>(s->tup));
    os << "\nglobal_index=";
    for (auto &[k, v] : global_index) {
      os << k << "->";
      item(v);
      os << ",";
    }
    os << "\n";
    return os.str();
  }
};

inline std::string dump() { return Dumper{}.dump(); }

inline void build_store() {
  auto *s = new Store{};
  s->title_short = "cache";
  s->title_long = std::string("a title long enough to live on the heap, not in SSO: ") +
                  std::string(64, 'z');
  for (int i = 0; i < 1000; ++i)
    s->numbers.push_back(i * i - 500);
  s->counters = {{"gets", 12345}, {"sets", -7}, {"", 0}};
  for (int i = 0; i < 50; ++i) {
    auto *it = new Item{"item-" + std::to_string(i), i * 3};
    s->items["key" + std::to_string(i)] = it;
    if (i % 10 == 0)
      global_index[it->name] = it;
  }
  s->motto = "never lose state";
  s->stats = {99, 1};
  for (int i = 0; i < 3; ++i)
    s->owned.push_back(std::make_unique<Item>(Item{"owned" + std::to_string(i), i}));
  s->featured = std::make_unique<Item>(Item{"featured", 42});
  auto *c = new Circle;
  c->r = 2;
  c->label = "round";
  auto *r = new Rect;
  r->w = 3;
  r->h = 4;
  r->label = "box";
  auto *b = new Badge;
  b->tag = "gold";
  b->rank = 1;
  b->r = 1.5;
  b->label = "badge-shape";
  b->points = {1, 2, 3};
  s->shapes = {c, r, c, b};
  s->named_view = b;
  s->shared_a = std::shared_ptr<Item>(new Item{"shared", 7});
  s->shared_b = s->shared_a;
  s->log = {{1, "start"}, {2, std::string(30, 'L')}};
  s->tags = {"alpha", "beta", "gamma"};
  s->quad = {1, 2, 65535, 4};
  s->ttl = std::chrono::milliseconds(1500);
  s->tup = {7, "seven", s->items["key7"]};
  s->cache = "transient";
  store = s;
}
