// The shape of delete_paths (its parts compiled with the plugin): every way
// of freeing a persistent object, every round, on reachable state and on
// objects freed at once: delete, delete[] of new T[n] arrays (with refs into
// them, at an element, cleared first), delete through a polymorphic base
// (also a base that is not at offset 0 of the object: the virtual destructor
// adjusts the pointer; virtual inheritance is not supported by the plugin),
// std::unique_ptr<T>::reset and std::unique_ptr<T[]>::reset in a persistent
// object, and unique_ptrs going out of scope. The digest follows refs into
// arrays as (array, index).
#include "../matrix.h"

#include <memory>
#include <vector>

struct [[checksync::persistent]] Blob {
  std::int64_t a, b, c;
};

struct [[checksync::persistent]] Base {
  virtual ~Base() = default;
  virtual std::uint64_t kind() const = 0;
  std::int64_t v;
};
struct [[checksync::persistent]] Small : Base {
  std::uint64_t kind() const override { return 1; }
};
struct [[checksync::persistent]] Tagged {
  virtual ~Tagged() = default;
  std::uint64_t tag;
};
struct [[checksync::persistent]] Big : Tagged, Base { // Base is not at offset 0
  std::string text;
  Blob *blob; // null, Holder::plain, *owned, or an element of many[] / arr[]
  std::uint64_t kind() const override { return 2; }
};

struct [[checksync::persistent]] Holder {
  std::unique_ptr<Blob> owned;
  std::unique_ptr<Blob[]> arr;
  std::uint64_t arr_n;
  std::vector<Base *> bases;
  Blob *plain;
  Blob *many; // new Blob[many_n]
  std::uint64_t many_n;
};

[[checksync::root]] Holder *holder = nullptr;
[[checksync::root]] Blob *keep = nullptr;
[[checksync::root]] std::uint64_t frees = 0;

namespace {
Blob blob(mx::Rng &rng) {
  return Blob{std::int64_t(rng.next()), std::int64_t(rng.below(1000)), -1};
}

// Every Big's ref into [lo, hi) is cleared (before that storage is freed).
void forget(const Blob *lo, const Blob *hi) {
  if (!lo)
    return;
  for (Base *b : holder->bases)
    if (b->kind() == 2) {
      Big *g = static_cast<Big *>(b);
      if (g->blob >= lo && g->blob < hi)
        g->blob = nullptr;
    }
}

Blob *some_blob(mx::Rng &rng) {
  Holder *h = holder;
  switch (rng.below(5)) {
  case 0: return h->plain;
  case 1: return h->owned.get();
  case 2: return h->many_n ? &h->many[rng.below(h->many_n)] : nullptr;
  case 3: return h->arr_n ? &h->arr[rng.below(h->arr_n)] : nullptr;
  default: return nullptr;
  }
}
} // namespace

void mx_round(std::uint64_t, std::uint64_t round, mx::Rng &rng) {
  if (round == 1) {
    holder = new Holder{};
    keep = new Blob{1, 2, 3};
  }
  Holder *h = holder;
  keep->c += 1;
  // delete and new of a plain object
  if (rng.chance(60)) {
    forget(h->plain, h->plain + 1);
    delete h->plain;
    ++frees;
    h->plain = rng.chance(80) ? new Blob(blob(rng)) : nullptr;
  }
  // delete[] and new T[n]
  if (round == 1 || rng.chance(50)) {
    forget(h->many, h->many + h->many_n);
    delete[] h->many;
    ++frees;
    h->many_n = rng.below(12);
    h->many = h->many_n ? new Blob[h->many_n] : nullptr;
    for (std::uint64_t i = 0; i < h->many_n; ++i)
      h->many[i] = blob(rng);
  }
  // unique_ptr<T>::reset, to a new object or to null
  if (rng.chance(60)) {
    forget(h->owned.get(), h->owned.get() + 1);
    if (rng.chance(70))
      h->owned.reset(new Blob(blob(rng)));
    else
      h->owned.reset();
    ++frees;
  }
  // unique_ptr<T[]>::reset
  if (rng.chance(50)) {
    forget(h->arr.get(), h->arr.get() + h->arr_n);
    h->arr_n = rng.below(6);
    h->arr.reset(h->arr_n ? new Blob[h->arr_n] : nullptr);
    for (std::uint64_t i = 0; i < h->arr_n; ++i)
      h->arr[i] = blob(rng);
    ++frees;
  }
  // polymorphic objects: new ones, deletes through Base * (a Big's Base
  // subobject is not at its start)
  for (int i = int(rng.below(5)); i > 0; --i) {
    if (rng.chance(50)) {
      auto *s = new Small;
      s->v = std::int64_t(rng.below(100));
      h->bases.push_back(s);
    } else {
      auto *g = new Big;
      g->v = -std::int64_t(rng.below(100));
      g->tag = rng.next();
      g->text = rng.bytes(30);
      g->blob = some_blob(rng);
      h->bases.push_back(g);
    }
  }
  for (int i = int(rng.below(3)); i > 0 && !h->bases.empty(); --i) {
    std::size_t at = rng.below(h->bases.size());
    Base *victim = h->bases[at];
    h->bases.erase(h->bases.begin() + std::ptrdiff_t(at));
    delete victim;
    ++frees;
  }
  for (Base *b : h->bases)
    if (b->kind() == 2 && rng.chance(20))
      static_cast<Big *>(b)->blob = some_blob(rng);
  // Freed at once, never reachable: every path again.
  delete new Blob{};
  delete[] new Blob[7];
  auto owned = std::make_unique<Blob>();
  owned.reset();
  std::unique_ptr<Blob[]> arr(new Blob[3]);
  arr.reset();
  { auto scoped = std::make_unique<Big>(); }
  Base *tmp = new Big;
  delete tmp;
  for (int i = 0; i < 100; ++i)
    delete new Blob{};
}

void mx_resumed(std::uint64_t, std::uint64_t) {}

void mx_digest(mx::Digest &d) {
  auto blob = [&](const Blob *b) {
    d.u(b != nullptr);
    if (b) {
      d.i(b->a);
      d.i(b->b);
      d.i(b->c);
    }
  };
  d.u(frees);
  blob(keep);
  if (!holder)
    return;
  const Holder *h = holder;
  blob(h->plain);
  blob(h->owned.get());
  d.u(h->many_n);
  for (std::uint64_t i = 0; i < h->many_n; ++i)
    blob(&h->many[i]);
  d.u(h->arr_n);
  for (std::uint64_t i = 0; i < h->arr_n; ++i)
    blob(&h->arr[i]);
  d.u(h->bases.size());
  for (const Base *b : h->bases) {
    d.u(b->kind());
    d.i(b->v);
    if (b->kind() != 2)
      continue;
    const Big *g = static_cast<const Big *>(b);
    d.u(g->tag);
    d.str(g->text);
    const Blob *x = g->blob;
    if (!x)
      d.u(0);
    else if (x == h->plain)
      d.u(1);
    else if (x == h->owned.get())
      d.u(2);
    else if (x >= h->many && x < h->many + h->many_n)
      d.u(100 + std::uint64_t(x - h->many));
    else if (x >= h->arr.get() && x < h->arr.get() + h->arr_n)
      d.u(200 + std::uint64_t(x - h->arr.get()));
    else {
      std::printf("error: a Big's blob ref points nowhere it should\n");
      std::exit(14);
    }
  }
}
