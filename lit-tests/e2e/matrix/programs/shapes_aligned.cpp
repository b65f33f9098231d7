// Port of library_types (store.h) and the former over_aligned test: inheritance (single and
// multiple, virtual functions, a ref to a base subobject not at offset 0,
// delete through a base pointer), unique_ptr / shared_ptr of persistent
// types, optionals, maps of refs, and alignas(128) objects (their alignment
// is part of the digest), edited and deleted round by round.
#include "../matrix.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct [[checksync::persistent]] Item {
  std::string name;
  std::int64_t qty;
};

struct [[checksync::persistent]] Shape {
  virtual ~Shape() = default;
  virtual std::uint64_t kind() const = 0;
  std::string label;
};
struct [[checksync::persistent]] Circle : Shape {
  double r = 0;
  std::uint64_t kind() const override { return 1; }
};
struct [[checksync::persistent]] Rect : Shape {
  double w = 0, h = 0;
  std::uint64_t kind() const override { return 2; }
};
struct [[checksync::persistent]] Named {
  std::string tag;
  std::int32_t rank;
};
struct [[checksync::persistent]] Badge : Named, Circle { // Shape not at offset 0
  std::vector<int> points;
  std::uint64_t kind() const override { return 3; }
};

struct alignas(128) [[checksync::persistent]] Line {
  std::int64_t words[8];
  Line *next;
};

struct [[checksync::persistent]] Store {
  std::vector<Shape *> shapes;
  Named *named_view; // the Named base of a Badge, or null
  std::map<std::string, Item *> items;
  std::vector<std::unique_ptr<Item>> owned;
  std::unique_ptr<Item> featured;
  std::shared_ptr<Item> shared_a, shared_b;
  std::optional<std::string> motto;
  Line *lines;
};

[[checksync::root]] Store *store = nullptr;

void mx_round(std::uint64_t, std::uint64_t round, mx::Rng &rng) {
  if (round == 1)
    store = new Store{};
  Store *s = store;
  for (int i = int(rng.below(4)); i > 0; --i) {
    Shape *sh;
    switch (rng.below(3)) {
    case 0: { auto *c = new Circle; c->r = double(rng.below(100)); sh = c; break; }
    case 1: { auto *r = new Rect; r->w = rng.special_double(); r->h = 2; sh = r; break; }
    default: {
      auto *b = new Badge;
      b->tag = "badge" + std::to_string(round);
      b->rank = std::int32_t(rng.below(10));
      b->r = 1.5;
      b->points.assign(rng.below(5), int(round));
      s->named_view = b;
      sh = b;
    }
    }
    sh->label = rng.bytes(40);
    s->shapes.push_back(sh);
  }
  if (s->shapes.size() > 3 && rng.chance(50)) { // delete through the base
    std::size_t at = rng.below(s->shapes.size());
    Shape *victim = s->shapes[at];
    s->shapes.erase(s->shapes.begin() + long(at));
    if (s->named_view && static_cast<Shape *>(static_cast<Badge *>(s->named_view)) == victim)
      s->named_view = nullptr;
    bool shared = false;
    for (Shape *o : s->shapes)
      shared |= o == victim;
    if (!shared)
      delete victim;
    else
      s->shapes.push_back(victim);
  }
  if (rng.chance(30) && !s->shapes.empty()) // sharing
    s->shapes.push_back(s->shapes[rng.below(s->shapes.size())]);
  std::string key = "k" + std::to_string(rng.below(20));
  if (auto it = s->items.find(key); it != s->items.end() && rng.chance(30)) {
    delete it->second;
    s->items.erase(it);
  } else if (it != s->items.end()) {
    it->second->qty += std::int64_t(round);
  } else {
    s->items[key] = new Item{rng.bytes(20), std::int64_t(rng.next() % 1000)};
  }
  if (rng.chance(40))
    s->owned.push_back(std::make_unique<Item>(Item{"owned" + std::to_string(round), 1}));
  if (!s->owned.empty() && rng.chance(20))
    s->owned.erase(s->owned.begin());
  if (rng.chance(30))
    s->featured = rng.chance(70) ? std::make_unique<Item>(Item{"f", std::int64_t(round)}) : nullptr;
  if (rng.chance(30)) {
    s->shared_a = std::shared_ptr<Item>(new Item{"shared", std::int64_t(round)});
    s->shared_b = rng.chance(50) ? s->shared_a : nullptr;
  }
  if (rng.chance(20))
    s->motto = rng.chance(50) ? std::optional<std::string>(rng.bytes(30)) : std::nullopt;
  for (int i = int(rng.below(3)); i > 0; --i) {
    Line *l = new Line{};
    l->words[rng.below(8)] = std::int64_t(rng.next());
    l->next = s->lines;
    s->lines = l;
  }
  if (s->lines && s->lines->next && rng.chance(30)) {
    Line *victim = s->lines->next;
    s->lines->next = victim->next;
    delete victim;
  }
}

void mx_resumed(std::uint64_t, std::uint64_t) {}

void mx_digest(mx::Digest &d) {
  const Store *s = store;
  if (!d.ref(s))
    return;
  auto item = [&](const Item *i) {
    if (d.ref(i)) {
      d.str(i->name);
      d.i(i->qty);
    }
  };
  d.u(s->shapes.size());
  for (const Shape *sh : s->shapes) {
    if (!d.ref(dynamic_cast<const void *>(sh)))
      continue;
    d.u(sh->kind());
    d.str(sh->label);
    if (auto *b = dynamic_cast<const Badge *>(sh)) {
      d.str(b->tag);
      d.i(b->rank);
      d.f(b->r);
      d.u(b->points.size());
      for (int p : b->points)
        d.i(p);
    } else if (auto *c = dynamic_cast<const Circle *>(sh)) {
      d.f(c->r);
    } else if (auto *r = dynamic_cast<const Rect *>(sh)) {
      d.f(r->w);
      d.f(r->h);
    }
  }
  d.ref(s->named_view ? dynamic_cast<const void *>(static_cast<const Badge *>(s->named_view))
                      : nullptr);
  d.u(s->items.size());
  for (auto &[k, v] : s->items) {
    d.str(k);
    item(v);
  }
  d.u(s->owned.size());
  for (auto &o : s->owned)
    item(o.get());
  item(s->featured.get());
  item(s->shared_a.get());
  item(s->shared_b.get());
  d.u(s->shared_a.use_count());
  d.u(s->motto.has_value());
  if (s->motto)
    d.str(*s->motto);
  for (const Line *l = s->lines; l; l = l->next) {
    d.ref(l);
    d.u(reinterpret_cast<std::uintptr_t>(l) % 128); // over-aligned, fresh and resumed
    for (auto w : l->words)
      d.i(w);
  }
}
