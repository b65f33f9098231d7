// Iterators into std::list kept in another object (docs/iterators.md):
//  - a value written only through such an iterator, which no barrier sees
//    (the list's owner is not written), is in the next checkpoint; the
//    checker (CHECKSYNC_VERIFY) and a resume agree;
//  - the same writes racing with a slow background encoder
//    (CHECKSYNC_VERIFY_COW: the delta equals the one encoded in the pause);
//  - iterators whose element cannot be rebuilt (the list is transient; the
//    end of an empty list nested in a vector) resume singular, with a warning;
//  - inspect shows node ids; resumed twice, the iterators still point right;
//  - lists inside records inside a map (moved into place on resume) keep
//    their iterators, end() included; a record that can only be copied (a
//    destructor and no move constructor) loses them, with a warning;
//  - in the race, a second Store appears mid-run: its first delta is encoded
//    while the program writes through its iterators.
//
// RUN: %cs_cxx %s -o %t %cs_ldflags
// RUN: rm -rf %t.d && env CHECKSYNC_VERIFY=1 CHECKSYNC_DIR=%t.d %t write 2>&1 | FileCheck %s --check-prefix=WRITE
// WRITE: written 40
// RUN: %csrt resume --from %t.d -- %t check 2>&1 | FileCheck %s --check-prefix=CHECK1
// CHECK1: warning: 3 iterator(s) pointed at no element of the restored state
// CHECK1: warning: 2 container node(s) were lost because a persistent record holding their container was copied, not moved
// CHECK1: values: k0=w36 k1=w37 k2=w38 k3=w39
// CHECK1-NEXT: lost: transient singular, nested end singular
// CHECK1-NEXT: levels: order 7 qty 70, end ok; copied singular
// RUN: %csrt resume --from %t.d -- %t check 2>&1 | FileCheck %s --check-prefix=CHECK2
// CHECK2: values: k0=w36 k1=w37 k2=w38 k3=w39
// RUN: %csrt inspect --objects %t.d | FileCheck %s --check-prefix=INSPECT
// INSPECT: entries = {node:{{[0-9a-f]+}}: null, node:{{[0-9a-f]+}}: [0, "w36"]
// INSPECT: at = [node:{{[0-9a-f]+}}, node:
//
// RUN: rm -rf %t.c && env CHECKSYNC_VERIFY_COW=1 CHECKSYNC_TEST_ENCODE_DELAY_US=300 CHECKSYNC_DIR=%t.c %t race 2>&1 | FileCheck %s --check-prefix=RACE
// RACE: raced 200
// RUN: %csrt resume --from %t.c -- %t check-race | FileCheck %s --check-prefix=RACED
// RACED: race values: k0=r196 k1=r197 k2=r198 k3=r199
// RACED-NEXT: second: k0=s196 k1=s197 k2=s198 k3=s199
#include <checksync/checksync.h>

#include <cstdio>
#include <cstring>
#include <list>
#include <map>
#include <string>
#include <vector>

struct [[checksync::persistent]] Entry {
  int key;
  std::string value;
};

// Moved into a map's node on resume: its list keeps its nodes.
struct [[checksync::persistent]] Level {
  std::list<Entry> orders;
};
// Copied instead (a destructor and no move constructor): its nodes are new.
struct [[checksync::persistent]] CopyOnly {
  std::list<Entry> orders;
  ~CopyOnly() {}
};

struct [[checksync::persistent]] Store {
  std::list<Entry> entries;
  std::map<int, Level> levels;
  std::vector<CopyOnly> copies;
  std::vector<std::list<int>> nested;            // its only list stays empty
  [[checksync::transient]] std::list<int> scratch; // not checkpointed
};

struct [[checksync::persistent]] Index {
  std::vector<std::list<Entry>::iterator> at; // at[k]: the entry with key k
  std::list<int>::iterator into_scratch;
  std::list<int>::iterator nested_end;
  std::list<Entry>::iterator level_order;
  std::list<Entry>::iterator level_end;
  std::list<Entry>::iterator copied;
};

[[checksync::root]] Store *store;
[[checksync::root]] Index *index_;
[[checksync::root]] Store *store2;
[[checksync::root]] Index *index2;

namespace {
// Writes only through the Index's iterators: the Store is read through a
// const path and never written, so no barrier marks it.
__attribute__((noinline)) void write_value(Index *x, int key, const std::string &v) {
  x->at[std::size_t(key)]->value = v;
}

void make(Store *&store, Index *&index_) {
  store = new Store;
  index_ = new Index;
  for (int k = 0; k < 4; ++k) {
    store->entries.push_back(Entry{k, "init"});
    index_->at.push_back(std::prev(store->entries.end()));
  }
  Level &l = store->levels[1];
  l.orders.push_back(Entry{6, "qty 60"});
  l.orders.push_back(Entry{7, "qty 70"});
  index_->level_order = std::next(l.orders.begin());
  index_->level_end = l.orders.end();
  store->copies.emplace_back();
  store->copies[0].orders.push_back(Entry{8, "qty 80"});
  index_->copied = store->copies[0].orders.begin();
  store->scratch.push_back(1);
  index_->into_scratch = store->scratch.begin();
  store->nested.emplace_back();
  index_->nested_end = store->nested[0].end();
}

void print_values(const char *what, Index *index_ = ::index_) {
  std::printf("%s:", what);
  for (int k = 0; k < 4; ++k) {
    const Entry &e = *index_->at[std::size_t(k)];
    std::printf(" k%d=%s", e.key, e.value.c_str());
  }
  std::printf("\n");
}
} // namespace

int main(int argc, char **argv) {
  checksync::init();
  const char *mode = argc > 1 ? argv[1] : "";
  if (!std::strcmp(mode, "write") || !std::strcmp(mode, "race")) {
    bool race = !std::strcmp(mode, "race");
    make(store, index_);
    checksync::wait_durable(checksync::checkpoint());
    int n = race ? 200 : 40;
    std::uint64_t epoch = 0;
    for (int i = 0; i < n; ++i) {
      if (race && i == 100)
        make(store2, index2); // a new holder: its first delta races with these writes
      write_value(index_, i % 4, (race ? "r" : "w") + std::to_string(i));
      if (index2)
        write_value(index2, i % 4, "s" + std::to_string(i));
      epoch = checksync::checkpoint(); // race: the writes race with its encoding
      if (!race && !checksync::wait_durable(epoch))
        return 1;
    }
    if (!checksync::wait_durable(epoch))
      return 1;
    std::printf("%s %d\n", race ? "raced" : "written", n);
    return 0;
  }
  if (!checksync::resumed())
    return 2;
  if (!std::strcmp(mode, "check-race")) {
    print_values("race values");
    print_values("second", index2);
    return 0;
  }
  print_values("values");
  std::printf("lost: transient %s, nested end %s\n",
              index_->into_scratch == std::list<int>::iterator() ? "singular" : "kept",
              index_->nested_end == std::list<int>::iterator() ? "singular" : "kept");
  const Level &l = store->levels.at(1);
  std::printf("levels: order %d %s, end %s; copied %s\n", index_->level_order->key,
              index_->level_order->value.c_str(), index_->level_end == l.orders.end() ? "ok" : "BAD",
              index_->copied == std::list<Entry>::iterator() ? "singular" : "kept");
  // Resume again from what this run checkpoints: node ids changed.
  checksync::wait_durable(checksync::checkpoint());
  return 0;
}
