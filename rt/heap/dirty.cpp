// dirty.cpp - card scanning (see dirty.h).
#include "heap/dirty.h"

#include "schema/registry.h"

#include <algorithm>
#include <atomic>
#include <cstring>

namespace checksync::detail {
namespace {

constexpr std::uint64_t kCard = std::uint64_t(1) << CHECKSYNC_CARD_SHIFT;
constexpr std::uint64_t kPage = std::uint64_t(1) << CHECKSYNC_PAGE_SHIFT;

// Reads and clears one mark byte. A barrier racing with the scan either lands
// before the exchange (seen now) or after it (seen next time).
inline bool take(std::uint8_t *b) {
  if (!__atomic_load_n(b, __ATOMIC_RELAXED))
    return false;
  return __atomic_exchange_n(b, std::uint8_t(0), __ATOMIC_RELAXED) != 0;
}

inline bool start_bit(const std::atomic<std::uint64_t> *bits, std::uint64_t i) {
  return (bits[i / 64].load(std::memory_order_relaxed) >> (i % 64)) & 1;
}

// Dirty objects are scattered over the heap, so almost every step below is a
// cache miss (card line, bitmap word, header). The work is split into passes
// over arrays, each prefetching kAhead items ahead, so the misses overlap
// instead of being paid one after another.
constexpr std::size_t kAhead = 16;

inline void prefetch(const void *p) { __builtin_prefetch(p, 0, 1); }

struct Collector {
  std::uint32_t stamp, chain;
  std::uintptr_t lo;
  const std::atomic<std::uint64_t> *bits;
  DirtySet out;

  void add(ObjHeader *h) {
    if (magic_of(h) != kLiveMagic || h->mark == stamp)
      return;
    h->mark = stamp;
    h->stored = chain;
    out.objects.push_back(h);
  }

  // The nearest object start strictly below address `a` (0 if none). Cards
  // come in address order, so the scan stops where the previous call's
  // began: the cards in the middle of a large array do not rescan it.
  std::uint64_t last_i = 0;
  std::uintptr_t last_b = 0;
  bool have_last = false;

  std::uintptr_t start_below(std::uintptr_t a) {
    std::uint64_t g = (a - lo) / kStartGranule;
    if (g == 0)
      return 0;
    std::uint64_t i = g - 1;
    std::uint64_t floor = have_last && i >= last_i ? last_i : 0; // exclusive if have_last
    bool bounded = have_last && i >= last_i;
    std::uintptr_t found = 0;
    for (std::uint64_t w = i / 64;; --w) {
      std::uint64_t word = bits[w].load(std::memory_order_relaxed);
      if (w == i / 64)
        word &= ~std::uint64_t(0) >> (63 - i % 64);
      if (bounded && w == floor / 64)
        word &= floor % 64 == 63 ? 0 : ~std::uint64_t(0) << (floor % 64 + 1);
      if (word) {
        found = lo + (w * 64 + 63 - std::uint64_t(__builtin_clzll(word))) * kStartGranule;
        break;
      }
      if (bounded && w == floor / 64) {
        found = last_b;
        break;
      }
      if (w == 0)
        break;
    }
    have_last = true, last_i = i, last_b = found;
    return found;
  }
};

// A block that may overlap a dirty card: `begin` is its header; when it
// starts before the card (`card` != 0) it counts only if it reaches `card`.
struct Candidate {
  std::uintptr_t begin, card;
};

} // namespace

DirtySet collect_dirty(std::uint32_t stamp, std::uint32_t chain) {
  HeapRange r = heap_range();
  Collector c{stamp, chain, r.lo, start_bitmap(), {}};
  if (!checksync_rt_cards.span || r.hi <= r.lo)
    return {};
  std::uint64_t npages = (r.hi - r.lo + kPage - 1) / kPage;
  std::uint8_t *pages = checksync_rt_cards.pages, *cards = checksync_rt_cards.cards;
  constexpr std::uint64_t kCardsPerPage = kPage / kCard;

  // 1. Dirty pages, 8 page bytes at a time.
  static thread_local std::vector<std::uint64_t> dirty_pages; // reused: no fresh pages per checkpoint
  dirty_pages.clear();
  for (std::uint64_t p = 0; p < npages; p += 8) {
    std::uint64_t word;
    std::memcpy(&word, pages + p, 8);
    if (!word)
      continue;
    for (std::uint64_t q = p; q < std::min(p + 8, npages); ++q)
      if (take(pages + q))
        dirty_pages.push_back(q);
  }
  c.out.dirty_pages = dirty_pages.size();

  // 2. Dirty cards of those pages (one cache line of card bytes per page).
  static thread_local std::vector<std::uintptr_t> dirty_cards; // reused: no fresh pages per checkpoint
  dirty_cards.clear();
  for (std::size_t i = 0; i < dirty_pages.size(); ++i) {
    if (i + kAhead < dirty_pages.size())
      prefetch(cards + dirty_pages[i + kAhead] * kCardsPerPage);
    std::uint64_t c0 = dirty_pages[i] * kCardsPerPage;
    for (std::uint64_t k0 = c0; k0 < c0 + kCardsPerPage; k0 += 8) {
      std::uint64_t word; // skip 8 clean cards at a time
      std::memcpy(&word, cards + k0, 8);
      if (!word)
        continue;
      for (std::uint64_t k = k0; k < k0 + 8; ++k)
        if (take(cards + k))
          dirty_cards.push_back(r.lo + k * kCard);
    }
  }

  // 3. Blocks starting inside each card, and the one starting before it.
  static thread_local std::vector<Candidate> cand; // reused: no fresh pages per checkpoint
  cand.clear();
  cand.reserve(dirty_cards.size() * 2);
  for (std::size_t i = 0; i < dirty_cards.size(); ++i) {
    if (i + kAhead < dirty_cards.size())
      prefetch(&c.bits[(dirty_cards[i + kAhead] - r.lo) / kStartGranule / 64]);
    std::uintptr_t a = dirty_cards[i];
    std::uint64_t first = (a - r.lo) / kStartGranule;
    // A block beginning before the card may reach into it (its header may
    // even straddle the boundary). Not needed when one begins exactly here.
    // It goes first, so the candidates stay in address order.
    if (!start_bit(c.bits, first))
      if (std::uintptr_t b = c.start_below(a))
        cand.push_back({b, a});
    for (std::uint64_t g = first; g < first + kCard / kStartGranule; ++g)
      if (start_bit(c.bits, g))
        cand.push_back({r.lo + g * kStartGranule, 0});
  }

  // 4. Check each candidate's header.
  for (std::size_t i = 0; i < cand.size(); ++i) {
    if (i + kAhead < cand.size())
      prefetch(reinterpret_cast<const void *>(cand[i + kAhead].begin));
    auto *h = reinterpret_cast<ObjHeader *>(cand[i].begin);
    if (cand[i].card) {
      if (magic_of(h) != kLiveMagic)
        continue;
      std::uintptr_t end = reinterpret_cast<std::uintptr_t>(h->payload()) +
                           h->count * registry_type_size(h->type);
      if (end <= cand[i].card)
        continue;
    }
    c.add(h);
  }

  // In address order (cards are scanned in order, and a block reaching into
  // a card from before it is either already in or below the card's own):
  // the encoder sorts by id on its own thread.
  return std::move(c.out);
}

void clear_dirty() {
  HeapRange r = heap_range();
  if (!checksync_rt_cards.span || r.hi <= r.lo)
    return;
  std::uint64_t npages = (r.hi - r.lo + kPage - 1) / kPage;
  for (std::uint64_t q = 0; q < npages; ++q)
    if (take(checksync_rt_cards.pages + q))
      std::memset(checksync_rt_cards.cards + q * (kPage / kCard), 0, kPage / kCard);
}

std::uint64_t pages_touched(const std::vector<ObjHeader *> &objects,
                            const std::vector<Type> &types) {
  std::vector<std::uint64_t> pages;
  pages.reserve(objects.size());
  for (const ObjHeader *h : objects) {
    auto a = reinterpret_cast<std::uintptr_t>(h);
    std::uint64_t end = a + sizeof(ObjHeader) + h->count * types[h->type].size;
    for (std::uint64_t p = a / kPage; p <= (end - 1) / kPage; ++p)
      pages.push_back(p);
  }
  std::sort(pages.begin(), pages.end());
  return std::uint64_t(std::unique(pages.begin(), pages.end()) - pages.begin());
}

} // namespace checksync::detail
