// std::make_shared, std::allocate_shared and std::make_shared_for_overwrite
// of persistent types (issue 14; the plugin redirects them to
// checksync/shared.h): objects shared by several owners (a root vector,
// other objects, a map), replaced and dropped each round. The digest folds
// every use_count: sharing and counts must survive a resume.
#include "../matrix.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

struct [[checksync::persistent]] Doc {
  std::int64_t id = 0;
  std::string title;
  std::shared_ptr<Doc> parent; // shared with the vector and the index
  Doc() = default;
  Doc(std::int64_t id, std::string title) : id(id), title(std::move(title)) {}
};

struct [[checksync::persistent]] Counter {
  std::int64_t hits;
};

[[checksync::root]] std::vector<std::shared_ptr<Doc>> docs;
[[checksync::root]] std::map<std::int64_t, std::shared_ptr<Doc>> by_id;
[[checksync::root]] std::shared_ptr<Counter> counter;

namespace {
std::string word(mx::Rng &rng) { return std::string(1 + rng.below(6), char('a' + rng.below(26))); }

std::shared_ptr<Doc> make(mx::Rng &rng, std::int64_t id) {
  switch (rng.below(3)) {
  case 0:
    return std::make_shared<Doc>(id, word(rng));
  case 1:
    return std::allocate_shared<Doc>(std::allocator<Doc>(), id, word(rng));
  default: {
    auto d = std::make_shared_for_overwrite<Doc>();
    d->id = id;
    d->title = word(rng);
    return d;
  }
  }
}
} // namespace

void mx_round(std::uint64_t, std::uint64_t round, mx::Rng &rng) {
  if (!counter) {
    counter = std::make_shared<Counter>();
    counter->hits = 0;
  }
  counter->hits += std::int64_t(round);
  for (int i = int(1 + rng.below(4)); i > 0; --i) {
    std::int64_t id = std::int64_t(round * 100 + std::uint64_t(i));
    auto d = make(rng, id);
    if (!docs.empty() && rng.chance(60))
      d->parent = docs[rng.below(docs.size())];
    docs.push_back(d);
    if (rng.chance(50))
      by_id[id] = d;
  }
  if (docs.size() > 12 && rng.chance(70)) { // drop one owner
    std::size_t k = rng.below(docs.size());
    docs.erase(docs.begin() + std::ptrdiff_t(k));
  }
  if (!by_id.empty() && rng.chance(30))
    by_id.erase(by_id.begin());
  if (!docs.empty() && rng.chance(30)) // share one more time
    docs.push_back(docs[rng.below(docs.size())]);
}

void mx_resumed(std::uint64_t, std::uint64_t) {}

void mx_digest(mx::Digest &d) {
  auto doc = [&](const std::shared_ptr<Doc> &p) {
    d.u(std::uint64_t(p.use_count()));
    for (const Doc *x = p.get(); d.ref(x); x = x->parent.get()) {
      d.i(x->id);
      d.str(x->title);
      d.u(std::uint64_t(x->parent.use_count()));
    }
  };
  d.u(docs.size());
  for (const auto &p : docs)
    doc(p);
  d.u(by_id.size());
  for (const auto &[k, p] : by_id) {
    d.i(k);
    doc(p);
  }
  d.u(std::uint64_t(counter.use_count()));
  if (counter)
    d.i(counter->hits);
}
