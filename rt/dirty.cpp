// dirty.cpp - card scanning (see dirty.h).
#include "dirty.h"

#include "registry.h"

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

struct Collector {
  std::uint32_t stamp;
  std::uintptr_t lo;
  const std::atomic<std::uint64_t> *bits;
  DirtySet out;
  // The object found last by `covering`: cards come in address order, so the
  // cards in the middle of a large object reuse it instead of rescanning.
  std::uintptr_t last_begin = 0, last_end = 0;
  ObjHeader *last = nullptr;

  void add(ObjHeader *h) {
    if (h->magic != kLiveMagic || h->reserved == stamp)
      return;
    h->reserved = stamp;
    out.objects.push_back(h);
  }

  // The object whose block (header included) begins below `a` and reaches
  // past it, if any. Its header may straddle the card boundary, so this is
  // not find_object(), which maps payload addresses.
  ObjHeader *covering(std::uintptr_t a) {
    if (last && a >= last_begin && a < last_end)
      return last;
    std::uint64_t i = (a - lo) / kStartGranule; // starts strictly below i
    if (i == 0)
      return nullptr;
    --i;
    std::uint64_t w = i / 64;
    std::uint64_t word = bits[w].load(std::memory_order_relaxed) &
                         (~std::uint64_t(0) >> (63 - i % 64));
    while (!word) {
      if (w == 0)
        return nullptr;
      word = bits[--w].load(std::memory_order_relaxed);
    }
    std::uint64_t bit = 63 - std::uint64_t(__builtin_clzll(word));
    auto begin = lo + (w * 64 + bit) * kStartGranule;
    auto *h = reinterpret_cast<ObjHeader *>(begin);
    if (h->magic != kLiveMagic)
      return nullptr;
    std::uintptr_t end = reinterpret_cast<std::uintptr_t>(h->payload()) +
                         h->count * registry_type_size(h->type);
    if (end <= a)
      return nullptr;
    last = h, last_begin = begin, last_end = end;
    return h;
  }

  // Every object overlapping [a, a + kCard).
  void card(std::uintptr_t a) {
    std::uint64_t first = (a - lo) / kStartGranule;
    std::uint64_t end = first + kCard / kStartGranule;
    // Starts inside the card.
    for (std::uint64_t i = first; i < end; ++i)
      if (start_bit(bits, i))
        add(reinterpret_cast<ObjHeader *>(lo + i * kStartGranule));
    // The object that began before the card and reaches into it.
    if (ObjHeader *h = covering(a))
      add(h);
  }
};

} // namespace

DirtySet collect_dirty(std::uint32_t stamp) {
  HeapRange r = heap_range();
  Collector c{stamp, r.lo, start_bitmap(), {}};
  if (!checksync_rt_cards.span || r.hi <= r.lo)
    return {};
  std::uint64_t npages = (r.hi - r.lo + kPage - 1) / kPage;
  std::uint8_t *pages = checksync_rt_cards.pages, *cards = checksync_rt_cards.cards;
  for (std::uint64_t p = 0; p < npages; p += 8) {
    std::uint64_t word; // skip 8 clean pages at a time
    std::memcpy(&word, pages + p, 8);
    if (!word)
      continue;
    for (std::uint64_t q = p; q < std::min(p + 8, npages); ++q) {
      if (!take(pages + q))
        continue;
      ++c.out.dirty_pages;
      std::uint64_t c0 = q * (kPage / kCard);
      for (std::uint64_t k = c0; k < c0 + kPage / kCard; ++k)
        if (take(cards + k))
          c.card(r.lo + k * kCard);
    }
  }
  // By id: the encoder writes ids as deltas.
  std::vector<std::pair<std::uint64_t, ObjHeader *>> keyed;
  keyed.reserve(c.out.objects.size());
  for (ObjHeader *h : c.out.objects)
    keyed.emplace_back(h->id, h);
  std::sort(keyed.begin(), keyed.end(),
            [](const auto &a, const auto &b) { return a.first < b.first; });
  for (size_t i = 0; i < keyed.size(); ++i)
    c.out.objects[i] = keyed[i].second;
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
                            const std::vector<std::uint64_t> &type_sizes) {
  std::vector<std::uint64_t> pages;
  for (ObjHeader *h : objects) {
    auto a = reinterpret_cast<std::uintptr_t>(h);
    std::uint64_t end = reinterpret_cast<std::uintptr_t>(h->payload()) +
                        h->count * type_sizes[h->type];
    for (std::uint64_t p = a / kPage; p <= (end - 1) / kPage; ++p)
      pages.push_back(p);
  }
  std::sort(pages.begin(), pages.end());
  return std::uint64_t(std::unique(pages.begin(), pages.end()) - pages.begin());
}

} // namespace checksync::detail
