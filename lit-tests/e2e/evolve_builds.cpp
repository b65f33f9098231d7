// Resume across builds (issue 15, docs/evolution.md): a checkpoint of build 1
// resumed by build 2, whose persistent types changed. Fields and roots are
// matched by name: added ones are value-initialised (and say so), removed ones
// dropped, scalars that widen converted; the state is intact. Changes that
// could lose data or are ambiguous are refused with exit 3 before anything is
// restored: narrowing, a change of kind, a removed type that objects still
// have. A record held by value whose type changed follows that type's plan. After the resume build 2
// starts a new chain (its first checkpoint is full) and resumes from it.
//
// RUN: %cs_cxx -DBUILD=1 %s -o %t.b1 %cs_ldflags
// RUN: %cs_cxx -DBUILD=2 %s -o %t.b2 %cs_ldflags
// RUN: %cs_cxx -DBUILD=3 %s -o %t.b3 %cs_ldflags
// RUN: %cs_cxx -DBUILD=4 %s -o %t.b4 %cs_ldflags
// RUN: %cs_cxx -DBUILD=5 %s -o %t.b5 %cs_ldflags
// RUN: rm -rf %t.d && env CHECKSYNC_DIR=%t.d %t.b1 | FileCheck %s --check-prefix=B1
// B1: build 1: 3 orders, total 600
//
// RUN: %csrt resume --from %t.d -- %t.b2 2>&1 | FileCheck %s --check-prefix=B2
// B2-DAG: resume across builds: type Order: renamed 'lots' -> 'units'; added 'tags' (value-initialised), 'flags' (value-initialised); dropped 'legacy'; converted 'qty' int32 -> int64, 'price' float32 -> float64, 'code' uint16 -> int32, 'lots' int32 -> int64
// B2-DAG: resume across builds: type Book: added 'owner' (value-initialised)
// B2-DAG: resume across builds: roots added (initial values kept): audit
// B2-DAG: resume across builds: roots dropped: {{.*}}retired
// B2-DAG: resume across builds: type Scratch: removed (no reachable object had it)
// B2: build 2: 3 orders, total 600, qty 100 200 300, price 1.5 2.5 3.5, code 7 8 9, tags 0 0 0, flags 0 0 0, units 10 20 30, owner '', audit 42
// RUN: %csrt inspect %t.d | FileCheck %s --check-prefix=FULL
// FULL: full: {{.*}}, schema [[S2:[0-9a-f]+]]
// FULL: program {{.*}}b2 (build {{[0-9a-f]+}}), schema [[S2]]
// RUN: %csrt resume --from %t.d -- %t.b2 2>&1 | FileCheck %s --check-prefix=B2AGAIN
// B2AGAIN-NOT: resume across builds
// B2AGAIN: build 2: 3 orders, total 600, qty 100 200 300, price 1.5 2.5 3.5, code 7 8 9, tags 1 1 1, flags 1 1 1, units 10 20 30, owner 'ann', audit 43
//
// Refused: build 1 cannot take build 2's int64 qty back (narrowing).
// RUN: not %csrt resume --from %t.d -- %t.b1 2>&1 | FileCheck %s --check-prefix=NARROW
// NARROW: checksync: error: checkpoint does not match this program: type Order: field 'qty' is int64 at offset {{[0-9]+}} in the checkpoint but int32 at offset {{[0-9]+}} in the program (narrowing or another arithmetic kind: allow it with --allow-lossy or {{\[\[}}checksync::allow_lossy{{\]\]}} on the field)
//
// Refused: a change of kind (build 3: qty becomes a string).
// RUN: rm -rf %t.k && env CHECKSYNC_DIR=%t.k %t.b1 > /dev/null
// inspect names each epoch's schema: build 1's differs from build 2's.
// RUN: %csrt inspect %t.k > %t.schemas && %csrt inspect %t.d >> %t.schemas
// RUN: FileCheck %s --check-prefix=SCHEMAS < %t.schemas
// SCHEMAS: epoch 1 full: {{.*}}, schema [[S1:[0-9a-f]+]]
// SCHEMAS: program {{.*}}b1 (build [[ID1:[0-9a-f]+]]), schema [[S1]]
// SCHEMAS-NOT: schema [[S1]]
// SCHEMAS-NOT: build [[ID1]]
// SCHEMAS: program {{.*}}b2 (build {{[0-9a-f]+}}), schema
// RUN: not %csrt resume --from %t.k -- %t.b3 2>&1 | FileCheck %s --check-prefix=KIND
// KIND: error: checkpoint does not match this program: type Order: field 'qty' is int32 at offset {{[0-9]+}} in the checkpoint but std::string at offset {{[0-9]+}} in the program
// A record held by value whose fields changed (build 4: Money gains a field,
// also inside a std::vector): decoded by its own type's plan.
// RUN: rm -rf %t.r && %csrt resume --from %t.k --dir %t.r -- %t.b4 2>&1 | FileCheck %s --check-prefix=RECORD
// RECORD: resume across builds: type Money: added 'currency' (value-initialised)
// RECORD: build 4: fees 12 currency 0, history 1 2 3
// Refused: a removed type that objects still have (build 5 has no Order).
// RUN: not %csrt resume --from %t.k -- %t.b5 2>&1 | FileCheck %s --check-prefix=GONE
// GONE: error: checkpoint does not match this program: type Order is not a persistent type of this program, and the checkpoint holds 3 reachable object(s) of it
//
// A rolling upgrade: the primary runs build 1 and ships to a backup running
// `serve --takeover -- build 2`; the backup resumes build 1's state in build 2.
// RUN: rm -rf %t.up && python3 %S/Inputs/upgrade_takeover.py %csrt %t.b1 %t.b2 %t.up | FileCheck %s --check-prefix=UPGRADE
// UPGRADE: build 1: 3 orders, total 600
// UPGRADE: takeover: no word from the primary
// UPGRADE: resume across builds: type Order: renamed 'lots' -> 'units'; added 'tags' (value-initialised), 'flags' (value-initialised)
// UPGRADE: build 2: 3 orders, total 600, qty 100 200 300, price 1.5 2.5 3.5, code 7 8 9, tags 0 0 0, flags 0 0 0, units 10 20 30, owner '', audit 42
// UPGRADE: resumed program exited with status 0
#include <checksync/checksync.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

struct [[checksync::persistent]] Money {
  std::int64_t cents;
#if BUILD == 4
  std::int32_t currency;
#endif
};

#if BUILD != 5
struct [[checksync::persistent]] Order {
#if BUILD == 1
  std::int32_t qty;
  float price;
  std::uint16_t code;
  std::string legacy;
  std::int32_t lots;
#elif BUILD == 3
  std::string qty;
  float price;
  std::uint16_t code;
  std::string legacy;
  std::int32_t lots;
#else
  std::vector<int> tags; // added
  std::int64_t qty;      // widened
  double price;          // widened
  std::int32_t code;     // widened from uint16
  std::uint8_t flags;    // added
  [[checksync::renamed_from("lots")]] std::int64_t units; // renamed and widened
#endif
  Order *next;
};
#endif

#if BUILD == 1
struct [[checksync::persistent]] Scratch { // only build 1 has it; never allocated
  int x;
};
#endif

struct [[checksync::persistent]] Book {
#if BUILD != 5
  Order *orders;
#endif
  Money fees;
  std::vector<Money> history;
#if BUILD == 2
  std::string owner; // added
#endif
};

[[checksync::root]] Book *book = nullptr;
#if BUILD == 1
[[checksync::root]] std::int64_t retired = 5;
[[checksync::root]] Scratch *scratch = nullptr;
#endif
#if BUILD == 2
[[checksync::root]] std::int64_t audit = 42;
#endif

int main() {
  checksync::init();
#if BUILD == 1
  if (checksync::resumed())
    return 1;
  book = new Book{};
  int total = 0;
  for (int i = 3; i >= 1; --i) {
    book->orders =
        new Order{i * 100, 0.5f + float(i), std::uint16_t(6 + i), "old", i * 10, book->orders};
    total += i * 100;
  }
  book->fees.cents = 12;
  book->history = {Money{1}, Money{2}, Money{3}};
  checksync::wait_durable(checksync::checkpoint());
  std::printf("build 1: 3 orders, total %d\n", total);
#elif BUILD == 2
  if (!checksync::resumed())
    return 1;
  std::string qty, price, code, tags, flags, units;
  long total = 0;
  int n = 0;
  for (Order *o = book->orders; o; o = o->next, ++n) {
    total += o->qty;
    qty += " " + std::to_string(o->qty);
    char p[32];
    std::snprintf(p, sizeof p, " %.1f", o->price);
    price += p;
    code += " " + std::to_string(o->code);
    tags += " " + std::to_string(o->tags.size());
    flags += " " + std::to_string(o->flags);
    units += " " + std::to_string(o->units);
  }
  std::printf("build 2: %d orders, total %ld, qty%s, price%s, code%s, tags%s, flags%s, units%s, "
              "owner '%s', audit %lld\n",
              n, total, qty.c_str(), price.c_str(), code.c_str(), tags.c_str(), flags.c_str(),
              units.c_str(), book->owner.c_str(), (long long)audit);
  // The new fields are in use from now on.
  for (Order *o = book->orders; o; o = o->next) {
    if (o->tags.empty())
      o->tags.push_back(1);
    o->flags = 1;
  }
  if (book->owner.empty()) {
    book->owner = "ann";
    ++audit;
  }
  checksync::wait_durable(checksync::checkpoint());
#elif BUILD == 4
  if (!checksync::resumed())
    return 1;
  std::printf("build 4: fees %lld currency %d, history", (long long)book->fees.cents,
              book->fees.currency);
  for (const Money &m : book->history)
    std::printf(" %lld", (long long)m.cents);
  std::printf("\n");
#else
  return checksync::resumed() ? 0 : 1;
#endif
  return 0;
}
