// Resume across builds, continued (issue 15, docs/evolution.md): added
// fields take their default member initialisers; a renamed type
// ([[checksync::renamed_from("shop::Item")]] on the class) keeps its objects,
// the refs to them, the library values holding them and the roots; an enum
// and its underlying integer are interchangeable; narrowing is refused unless
// allowed (--allow-lossy for every field, [[checksync::allow_lossy]] for one),
// and then values that do not fit are clamped and counted.
//
// RUN: %cs_cxx -DBUILD=1 %s -o %t.b1 %cs_ldflags
// RUN: %cs_cxx -DBUILD=2 %s -o %t.b2 %cs_ldflags
// RUN: %cs_cxx -DBUILD=3 %s -o %t.b3 %cs_ldflags
// RUN: %cs_cxx -DBUILD=4 %s -o %t.b4 %cs_ldflags
// RUN: rm -rf %t.d && env CHECKSYNC_DIR=%t.d %t.b1 | FileCheck %s --check-prefix=B1
// B1: build 1: qty 5 100000 -3, weight 0.1 2.5 -7.75, level 1 2 3, big 7 5000000000 -5000000000, kind 2, mode 1
//
// Build 2 renames shop::Item to shop::Article and adds fields with initialisers.
// RUN: rm -rf %t.d2 && %csrt resume --from %t.d --dir %t.d2 -- %t.b2 2>&1 | FileCheck %s --check-prefix=B2
// B2-DAG: resume across builds: type shop::Item -> shop::Article: renamed type; added 'priority' (its initialiser), 'ratio' (its initialiser), 'active' (its initialiser), 'code' (its initialiser), 'color' (its initialiser), 'label' (its initialiser), 'note' (value-initialised), 'seeded' (value-initialised: its initialiser is not a constant), 'limits' (a fresh record: its fields' initialisers), 'empty' (its initialiser), 'none' (its initialiser)
// B2: build 2: 3 articles, qty 5 100000 -3, priority 7 7 7, ratio 0.25, active 1, code 'ab', color 2, label 'new', note '', seeded 0, limits -1..99, empty '', none null, index 3, kind 2, mode 1, first 5
// The renamed type checkpoints and resumes again under its new name.
// RUN: %csrt resume --from %t.d2 -- %t.b2 2>&1 | FileCheck %s --check-prefix=B2AGAIN
// B2AGAIN-NOT: resume across builds
// B2AGAIN: build 2: 3 articles, qty 5 100000 -3, priority 8 8 8,
//
// Build 3 narrows: refused by default, naming the field and the way out.
// RUN: not %csrt resume --from %t.d -- %t.b3 2>&1 | FileCheck %s --check-prefix=NARROW
// NARROW: checksync: error: checkpoint does not match this program: type shop::Item: field 'qty' is int64 at offset 0 in the checkpoint but int16 at offset 0 in the program (narrowing or another arithmetic kind: allow it with --allow-lossy or {{\[\[}}checksync::allow_lossy{{\]\]}} on the field)
// RUN: %csrt resume --allow-lossy --from %t.d --dir %t.d3 -- %t.b3 2>&1 | FileCheck %s --check-prefix=LOSSY
// LOSSY-DAG: resume across builds: type shop::Item: converted 'qty' int64 -> int16 (lossy), 'weight' float64 -> float32 (lossy), 'level' int32 -> float64 (lossy), 'big' int64 -> int32 (lossy), 'flag' int32 -> uint8 (lossy), 'huge' float64 -> float32 (lossy)
// LOSSY-DAG: 1 value(s) of 'qty' did not fit its new type: clamped, rounded or truncated (lossy conversions allowed)
// LOSSY-DAG: 1 value(s) of 'weight' did not fit its new type
// LOSSY-DAG: 2 value(s) of 'big' did not fit its new type
// LOSSY-DAG: 2 value(s) of 'flag' did not fit its new type
// LOSSY-DAG: 1 value(s) of 'huge' did not fit its new type
// LOSSY: build 3: qty 5 32767 -3, weight 0.1 2.5 -7.75, level 1 2 3, big 7 2147483647 -2147483648, flag 0 1 1, huge 0 -3.40282e+38 2
// The same through the environment (serve --takeover passes it on).
// RUN: env CHECKSYNC_ALLOW_LOSSY=1 %csrt resume --from %t.d --dir %t.d3e -- %t.b3 2>&1 | FileCheck %s --check-prefix=LOSSY
//
// Build 4 narrows only `big`, marked [[checksync::allow_lossy]]: no flag needed.
// RUN: %csrt resume --from %t.d --dir %t.d4 -- %t.b4 2>&1 | FileCheck %s --check-prefix=ATTR
// ATTR: 2 value(s) of 'big' did not fit its new type
// ATTR: build 4: big 7 2147483647 -2147483648
#include <checksync/checksync.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

enum class Kind : std::int32_t { A = 1, B = 2 };
enum Mode : std::int32_t { Off = 0, On = 1 };
enum class Color : std::uint8_t { Red = 1, Green = 2 };

struct [[checksync::persistent]] Limits {
  std::int32_t lo = -1;
  std::int32_t hi = 99;
};

namespace shop {
#if BUILD == 2
struct [[checksync::persistent, checksync::renamed_from("shop::Item")]] Article {
#else
struct [[checksync::persistent]] Item {
#endif
#if BUILD == 3
  std::int16_t qty;
  float weight;
  double level;
  std::int32_t big;
  bool flag;  // was int32: value != 0
  float huge; // was double: beyond float's range, clamped to its largest
#elif BUILD == 4
  std::int64_t qty;
  double weight;
  std::int32_t level;
  [[checksync::allow_lossy]] std::int32_t big;
  std::int32_t flag;
  double huge;
#else
  std::int64_t qty;
  double weight;
  std::int32_t level;
  std::int64_t big;
  std::int32_t flag;
  double huge;
#endif
#if BUILD == 2
  std::int32_t priority = 7;
  double ratio = 0.25;
  bool active = true;
  char code[4] = "ab";
  Color color = Color::Green;
  std::string label = "new";
  std::string note;
  int seeded = std::rand() + 1;
  Limits limits;
  std::string empty{};
  Article *none = nullptr;
  Article *next;
#else
  Item *next;
#endif
};
#if BUILD == 2
using Node = Article;
#else
using Node = Item;
#endif
} // namespace shop

struct [[checksync::persistent]] Store {
  shop::Node *items;
  std::vector<shop::Node *> index;
#if BUILD == 2
  std::int32_t kind; // was enum Kind
  Mode mode;         // was int
#else
  Kind kind;
  std::int32_t mode;
#endif
};

[[checksync::root]] Store *store = nullptr;
[[checksync::root]] shop::Node *first = nullptr;

int main() {
  checksync::init();
#if BUILD == 1
  if (checksync::resumed())
    return 1;
  store = new Store{};
  const std::int64_t qty[] = {5, 100000, -3}, big[] = {7, 5000000000, -5000000000};
  const double weight[] = {0.1, 2.5, -7.75};
  for (int i = 2; i >= 0; --i) {
    const std::int32_t flag[] = {0, 2, -1};
    store->items = new shop::Item{qty[i], weight[i], i + 1, big[i], flag[i],
                                  i == 1 ? -1e300 : 1.0 * i, store->items};
    store->index.insert(store->index.begin(), store->items);
  }
  store->kind = Kind::B;
  store->mode = 1;
  first = store->items;
  checksync::wait_durable(checksync::checkpoint());
  std::printf("build 1: qty 5 100000 -3, weight 0.1 2.5 -7.75, level 1 2 3, big 7 5000000000 "
              "-5000000000, kind %d, mode %d\n",
              int(store->kind), store->mode);
#elif BUILD == 2
  if (!checksync::resumed())
    return 1;
  int n = 0;
  std::string qty, prio;
  for (shop::Article *a = store->items; a; a = a->next, ++n) {
    qty += " " + std::to_string(a->qty);
    prio += " " + std::to_string(a->priority);
  }
  const shop::Article *a = store->items;
  bool index_ok = store->index.size() == 3 && store->index[0] == store->items &&
                  store->index[2] == store->items->next->next;
  std::printf("build 2: %d articles, qty%s, priority%s, ratio %.2f, active %d, code '%s', color "
              "%d, label '%s', note '%s', seeded %d, limits %d..%d, empty '%s', none %s, index "
              "%d, kind %d, mode %d, first %lld\n",
              n, qty.c_str(), prio.c_str(), a->ratio, int(a->active), a->code, int(a->color),
              a->label.c_str(), a->note.c_str(), a->seeded, a->limits.lo, a->limits.hi,
              a->empty.c_str(), a->none ? "set" : "null", index_ok ? 3 : -1, store->kind,
              int(store->mode), (long long)first->qty);
  for (shop::Article *b = store->items; b; b = b->next)
    b->priority = 8;
  checksync::wait_durable(checksync::checkpoint());
#elif BUILD == 3
  if (!checksync::resumed())
    return 1;
  std::string qty, weight, level, big, flag, huge;
  for (shop::Item *i = store->items; i; i = i->next) {
    char w[32];
    flag += " " + std::to_string(int(i->flag));
    std::snprintf(w, sizeof w, " %g", double(i->huge));
    huge += w;
    std::snprintf(w, sizeof w, " %g", double(i->weight));
    qty += " " + std::to_string(i->qty);
    weight += w;
    std::snprintf(w, sizeof w, " %g", i->level);
    level += w;
    big += " " + std::to_string(i->big);
  }
  std::printf("build 3: qty%s, weight%s, level%s, big%s, flag%s, huge%s\n", qty.c_str(),
              weight.c_str(), level.c_str(), big.c_str(), flag.c_str(), huge.c_str());
#else
  if (!checksync::resumed())
    return 1;
  std::string big;
  for (shop::Item *i = store->items; i; i = i->next)
    big += " " + std::to_string(i->big);
  std::printf("build 4: big%s\n", big.c_str());
#endif
  return 0;
}
