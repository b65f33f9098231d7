// table.h - checksync-kv's state: a chained hash table whose entries and
// bucket segments are [[checksync::persistent]] objects, so a checkpoint
// writes only the entries and 64-bucket segments that changed.
#ifndef CHECKSYNC_KV_TABLE_H
#define CHECKSYNC_KV_TABLE_H

#include <checksync/checksync.h>

#include <cstdint>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

namespace kv {

struct [[checksync::persistent]] Entry {
  std::string key;
  std::string value;
  std::int64_t expire_ms; // wall-clock ms since the epoch; 0: never
  std::uint64_t hash;
  Entry *next;
};

constexpr std::uint64_t kSegment = 64; // buckets per segment object

struct [[checksync::persistent]] Segment {
  Entry *head[kSegment];
};

struct [[checksync::persistent]] Table {
  std::uint64_t size;
  std::uint64_t mask; // buckets - 1; buckets = segments.size() * kSegment
  std::vector<Segment *> segments;
};

inline std::uint64_t hash_key(std::string_view s) { // FNV-1a, then a mix
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s)
    h = (h ^ c) * 1099511628211ull;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

class Store {
public:
  explicit Store(Table *&root) : t_(root) {
    if (!t_) {
      t_ = new Table{0, 0, {}};
      grow(kSegment * 16);
    }
  }
  std::uint64_t size() const { return t_->size; }

  // The live entry for key, or null (an expired one is deleted). Reads go
  // through const paths, so a lookup dirties nothing (docs/compiler.md).
  Entry *find(std::string_view key, std::int64_t now_ms) {
    std::uint64_t h = hash_key(key);
    for (Entry *e = first(h); e; e = e->next) {
      if (e->hash != h || e->key != key)
        continue;
      if (e->expire_ms && e->expire_ms <= now_ms) {
        erase(key);
        return nullptr;
      }
      return e;
    }
    return nullptr;
  }

  Entry *insert(std::string_view key, std::string_view value) {
    std::uint64_t h = hash_key(key);
    Entry *&slot = head(h);
    auto *e = new Entry{std::string(key), std::string(value), 0, h, slot};
    slot = e;
    if (++t_->size > t_->mask + 1)
      grow((t_->mask + 1) * 2);
    return e;
  }

  bool erase(std::string_view key) {
    std::uint64_t h = hash_key(key);
    for (Entry **slot = &head(h); *slot; slot = &(*slot)->next)
      if ((*slot)->hash == h && (*slot)->key == key) {
        Entry *e = *slot;
        *slot = e->next;
        delete e;
        --t_->size;
        return true;
      }
    return false;
  }

  void clear() {
    for (Segment *s : t_->segments) {
      for (Entry *&h : s->head)
        while (Entry *e = h) {
          h = e->next;
          delete e;
        }
    }
    t_->size = 0;
  }

  // Deletes up to `budget` expired entries, resuming where it stopped.
  void expire_some(std::int64_t now_ms, std::uint64_t budget) {
    std::uint64_t buckets = t_->mask + 1;
    for (std::uint64_t n = 0; n < budget; ++n, cursor_ = (cursor_ + 1) % buckets)
      for (Entry **slot = &head(cursor_); *slot;) {
        Entry *e = *slot;
        if (e->expire_ms && e->expire_ms <= now_ms) {
          *slot = e->next;
          delete e;
          --t_->size;
        } else {
          slot = &e->next;
        }
      }
  }

  template <class F> void for_each(F f) const {
    for (const Segment *s : std::as_const(t_->segments))
      for (const Entry *e : s->head)
        for (; e; e = e->next)
          f(*e);
  }

private:
  Entry *first(std::uint64_t h) const {
    std::uint64_t b = h & t_->mask;
    return std::as_const(*std::as_const(t_->segments)[b / kSegment]).head[b % kSegment];
  }
  // The bucket's head pointer, to write it.
  Entry *&head(std::uint64_t h) {
    std::uint64_t b = h & t_->mask;
    return t_->segments[b / kSegment]->head[b % kSegment];
  }

  void grow(std::uint64_t buckets) {
    std::vector<Entry *> all;
    all.reserve(t_->size);
    for (Segment *s : t_->segments) {
      for (Entry *e : s->head)
        for (; e; e = e->next)
          all.push_back(e);
      delete s;
    }
    t_->segments.clear();
    for (std::uint64_t i = 0; i < buckets / kSegment; ++i)
      t_->segments.push_back(new Segment{});
    t_->mask = buckets - 1;
    for (Entry *e : all) {
      Entry *&h = head(e->hash);
      e->next = h;
      h = e;
    }
  }

  Table *&t_;
  std::uint64_t cursor_ = 0;
};

} // namespace kv

#endif
