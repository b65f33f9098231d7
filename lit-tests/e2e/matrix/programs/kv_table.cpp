// The shape of examples/kv/table.h (written out here, not included): entries
// with std::string keys and values (binary, NULs, invalid UTF-8, long
// values), an expiry time and a cached hash, chained in buckets that live in
// 64-bucket Segment objects (arrays of Entry *), held by a Table with a
// std::vector<Segment *>. Growth rehashes every entry into new segments and
// deletes the old ones; entries are overwritten, deleted, given expiry times
// and expired by an incremental sweep whose cursor and clock are persistent;
// a round sometimes clears everything.
#include "../matrix.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct [[checksync::persistent]] Entry {
  std::string key;
  std::string value;
  std::int64_t expire_ms; // logical ms; 0: never
  std::uint64_t hash;
  Entry *next;
};

constexpr std::uint64_t kSegment = 64;

struct [[checksync::persistent]] Segment {
  Entry *head[kSegment];
};

struct [[checksync::persistent]] Table {
  std::uint64_t size;
  std::uint64_t mask; // buckets - 1; buckets = segments.size() * kSegment
  std::vector<Segment *> segments;
};

[[checksync::root]] Table *table = nullptr;
[[checksync::root]] std::int64_t now_ms = 1000; // a logical clock
[[checksync::root]] std::uint64_t cursor = 0;  // the expiry sweep's position
[[checksync::root]] std::uint64_t grown = 0, expired = 0;

namespace {

std::uint64_t hash_key(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s)
    h = (h ^ c) * 1099511628211ull;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

Entry *&head(std::uint64_t h) {
  std::uint64_t b = h & table->mask;
  return table->segments[b / kSegment]->head[b % kSegment];
}

void grow(std::uint64_t buckets) {
  std::vector<Entry *> all;
  for (Segment *s : table->segments) {
    for (Entry *e : s->head)
      for (; e; e = e->next)
        all.push_back(e);
    delete s;
  }
  table->segments.clear();
  for (std::uint64_t i = 0; i < buckets / kSegment; ++i)
    table->segments.push_back(new Segment{});
  table->mask = buckets - 1;
  for (Entry *e : all) {
    Entry *&h = head(e->hash);
    e->next = h;
    h = e;
  }
  ++grown;
  cursor %= buckets;
}

Entry *find(std::string_view key) {
  std::uint64_t h = hash_key(key);
  for (Entry *e = head(h); e; e = e->next)
    if (e->hash == h && e->key == key)
      return e;
  return nullptr;
}

void insert(std::string_view key, std::string value) {
  std::uint64_t h = hash_key(key);
  Entry *&slot = head(h);
  slot = new Entry{std::string(key), std::move(value), 0, h, slot};
  if (++table->size > table->mask + 1)
    grow((table->mask + 1) * 2);
}

bool erase(std::string_view key) {
  std::uint64_t h = hash_key(key);
  for (Entry **slot = &head(h); *slot; slot = &(*slot)->next)
    if ((*slot)->hash == h && (*slot)->key == key) {
      Entry *e = *slot;
      *slot = e->next;
      delete e;
      --table->size;
      return true;
    }
  return false;
}

void clear() {
  for (Segment *s : table->segments)
    for (Entry *&h : s->head)
      while (Entry *e = h) {
        h = e->next;
        delete e;
      }
  table->size = 0;
}

void expire_some(std::uint64_t budget) {
  std::uint64_t buckets = table->mask + 1;
  for (std::uint64_t n = 0; n < budget; ++n, cursor = (cursor + 1) % buckets)
    for (Entry **slot = &head(cursor); *slot;) {
      Entry *e = *slot;
      if (e->expire_ms && e->expire_ms <= now_ms) {
        *slot = e->next;
        delete e;
        --table->size;
        ++expired;
      } else {
        slot = &e->next;
      }
    }
}

std::string key(mx::Rng &rng) {
  if (rng.chance(10))
    return rng.bytes(12); // binary, NULs, invalid UTF-8 (maybe empty)
  return "key:" + std::to_string(rng.below(3000));
}

std::string value(mx::Rng &rng) {
  if (rng.chance(3))
    return std::string(2000 + rng.below(3000), char('A' + rng.below(26)));
  return rng.chance(20) ? rng.bytes(40) : "v" + std::to_string(rng.next() % 100000);
}

} // namespace

void mx_round(std::uint64_t, std::uint64_t round, mx::Rng &rng) {
  if (round == 1) {
    table = new Table{0, 0, {}};
    grow(kSegment * 4);
  }
  now_ms += 100;
  for (int op = round == 1 ? 400 : 150; op > 0; --op) {
    std::string k = key(rng);
    std::uint64_t what = rng.below(100);
    if (what < 55) { // SET: overwrite or insert
      if (Entry *e = find(k)) {
        e->value = value(rng);
        e->expire_ms = 0;
      } else {
        insert(k, value(rng));
      }
    } else if (what < 70) { // DEL
      erase(k);
    } else if (what < 85) { // EXPIRE: some due within a few rounds
      if (Entry *e = find(k))
        e->expire_ms = now_ms + std::int64_t(rng.below(500));
    } else if (what < 95) { // APPEND
      if (Entry *e = find(k))
        e->value += rng.bytes(8);
    } else if (Entry *e = find(k)) { // lazy expiry on lookup
      if (e->expire_ms && e->expire_ms <= now_ms)
        erase(k);
    }
  }
  expire_some(64 + rng.below(256));
  if (round > 3 && rng.chance(5)) // FLUSHALL (the segments stay)
    clear();
}

void mx_resumed(std::uint64_t, std::uint64_t) {}

void mx_digest(mx::Digest &d) {
  d.i(now_ms);
  d.u(cursor);
  d.u(grown);
  d.u(expired);
  if (!d.ref(table))
    return;
  d.u(table->size);
  d.u(table->mask);
  d.u(table->segments.size());
  std::uint64_t n = 0;
  for (const Segment *s : table->segments) {
    d.ref(s);
    for (const Entry *e : s->head)
      for (; e; e = e->next) {
        d.ref(e);
        d.str(e->key);
        d.str(e->value);
        d.i(e->expire_ms);
        d.u(e->hash);
        ++n;
      }
  }
  d.u(n);
  if (n != table->size) {
    std::printf("error: table size %llu, %llu entries\n", (unsigned long long)table->size,
                (unsigned long long)n);
    std::exit(12);
  }
}
