// Port of incremental_rounds: a growing chained hash table (256 buckets in
// the Table object) with many small operations per round: puts (new entries
// or new values and versions), deletes, moves to the front of a bucket,
// container edits (a bounded vector of tags), in-place scalar edits. Kept
// modest (60 operations per round over 600 keys) so the matrix stays fast;
// the standalone 300-round run under CHECKSYNC_VERIFY checks delta sizes and
// the directory bound.
#include "../matrix.h"

#include <string>
#include <vector>

struct [[checksync::persistent]] Entry {
  std::string key;
  std::string value;
  std::int64_t version;
  std::vector<std::int32_t> tags;
  Entry *next;
};

struct [[checksync::persistent]] Table {
  std::uint64_t size;
  std::uint64_t puts, deletes;
  Entry *buckets[256];
};

[[checksync::root]] Table *table = nullptr;

namespace {
std::uint64_t fnv(const std::string &s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s)
    h = (h ^ c) * 1099511628211ull;
  return h;
}

Entry **find(const std::string &key) {
  Entry **p = &table->buckets[fnv(key) % 256];
  while (*p && (*p)->key != key)
    p = &(*p)->next;
  return p;
}
} // namespace

void mx_round(std::uint64_t, std::uint64_t round, mx::Rng &rng) {
  if (round == 1)
    table = new Table{};
  for (int op = round == 1 ? 300 : 60; op > 0; --op) {
    std::string key = "k" + std::to_string(rng.below(600));
    if (rng.chance(5))
      key += std::string(1, '\0') + rng.bytes(6); // binary keys too
    Entry **slot = find(key);
    switch (rng.below(6)) {
    case 0:
    case 1: // put
      if (*slot) {
        (*slot)->value = std::string(rng.below(40), char('a' + rng.below(26)));
        ++(*slot)->version;
      } else {
        *slot = new Entry{key, std::string(rng.below(40), 'v'), 1, {}, nullptr};
        ++table->size;
      }
      ++table->puts;
      break;
    case 2: // delete
      if (Entry *e = *slot) {
        *slot = e->next;
        delete e;
        --table->size;
        ++table->deletes;
      }
      break;
    case 3: { // rewire: move to the front of its bucket
      Entry **head = &table->buckets[fnv(key) % 256];
      if (Entry *e = *slot; e && slot != head) {
        *slot = e->next;
        e->next = *head;
        *head = e;
      }
      break;
    }
    case 4: // container edit
      if (Entry *e = *slot) {
        if (e->tags.size() > 5)
          e->tags.erase(e->tags.begin());
        e->tags.push_back(std::int32_t(rng.below(1000)));
      }
      break;
    default: // in-place scalar edit
      if (Entry *e = *slot)
        e->version += 10;
    }
  }
}

void mx_resumed(std::uint64_t, std::uint64_t) {}

void mx_digest(mx::Digest &d) {
  if (!d.ref(table))
    return;
  d.u(table->size);
  d.u(table->puts);
  d.u(table->deletes);
  std::uint64_t n = 0;
  for (const Entry *b : table->buckets)
    for (const Entry *e = b; e; e = e->next) {
      d.ref(e);
      d.str(e->key);
      d.str(e->value);
      d.i(e->version);
      d.u(e->tags.size());
      for (auto t : e->tags)
        d.i(t);
      ++n;
    }
  d.u(n);
  if (n != table->size) {
    std::printf("error: table size %llu, %llu entries\n", (unsigned long long)table->size,
                (unsigned long long)n);
    std::exit(12);
  }
}
