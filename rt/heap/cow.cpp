// cow.cpp - see cow.h.
#include "heap/cow.h"

#include "heap/tsan.h"

#include "schema/registry.h"

#include <algorithm>
#include <thread>

namespace checksync::detail {

std::atomic<CowDelta *> cow_current{nullptr};
std::atomic<long> cow_users{0};

namespace {

// Cards of [a, b): index range.
inline void card_range(std::uintptr_t a, std::uintptr_t b, std::uint64_t &c0, std::uint64_t &c1) {
  c0 = (a - checksync_rt_cards.lo) >> CHECKSYNC_CARD_SHIFT;
  c1 = (b - 1 - checksync_rt_cards.lo) >> CHECKSYNC_CARD_SHIFT;
}

std::uintptr_t end_of(const ObjHeader *h) {
  return reinterpret_cast<std::uintptr_t>(h + 1) + h->count * registry_type_size(h->type);
}

// Waits are short (one object being copied or encoded), but the other
// thread may be descheduled: after a while, yield the core to it.
inline void spin(unsigned &n) {
  if (++n < 1024)
    __builtin_ia32_pause();
  else
    std::this_thread::yield();
}
} // namespace

CowDelta::CowDelta(std::vector<ObjHeader *> objects, std::function<void(std::size_t)> copy)
    : objects_(std::move(objects)), copy_(std::move(copy)),
      state_(std::make_unique<std::atomic<std::uint8_t>[]>(objects_.size())) {
  if (!std::is_sorted(objects_.begin(), objects_.end())) // collection keeps the order
    std::sort(objects_.begin(), objects_.end());
}

CowDelta::~CowDelta() {
  retire();
  // Threads that loaded this delta before retire() cleared cow_current may
  // still be in before_write or keep_freed (several mutating threads): wait
  // for them. Both sides are sequentially consistent (CowUse), so a thread
  // that arrives later loads null.
  for (unsigned n = 0; cow_users.load(std::memory_order_seq_cst) != 0;)
    spin(n);
  tsan_acquire(&cow_users);
}

// Setting runs inside checkpoint(), when no other thread writes cards (the
// contract), so plain stores do; clearing runs on the encoder while the
// program's barriers store into the same bytes, so it must not lose their
// marks (and skips cards a neighbour's clearing already did).
void CowDelta::flag_cards(bool on) {
  std::uint8_t *cards = checksync_rt_cards.cards;
  for (ObjHeader *h : objects_) {
    std::uint64_t c0, c1;
    card_range(reinterpret_cast<std::uintptr_t>(h), end_of(h), c0, c1);
    for (std::uint64_t c = c0; c <= c1; ++c)
      if (on)
        cards[c] |= CHECKSYNC_CARD_IN_FLIGHT;
      else if (__atomic_load_n(&cards[c], __ATOMIC_RELAXED) & CHECKSYNC_CARD_IN_FLIGHT)
        __atomic_fetch_and(&cards[c], std::uint8_t(~CHECKSYNC_CARD_IN_FLIGHT), __ATOMIC_RELAXED);
  }
}

void CowDelta::publish() {
  if (tsan_enabled()) // the program's writes so far happen before the encoder's reads
    for (std::size_t i = 0; i < objects_.size(); ++i)
      tsan_release(&state_[i]);
  flag_cards(true);
  cow_current.store(this, std::memory_order_release);
  __atomic_store_n(&checksync_rt_cards.in_flight, 1, __ATOMIC_RELEASE);
}

bool CowDelta::claim(std::size_t i) {
  std::uint8_t s = kPending;
  if (state_[i].compare_exchange_strong(s, kEncoding, std::memory_order_acquire)) {
    tsan_acquire(&state_[i]); // the writes before checkpoint() (publish)
    return true;
  }
  for (unsigned n = 0; s == kCopying;) {
    spin(n);
    s = state_[i].load(std::memory_order_acquire);
  }
  tsan_acquire(&state_[i]); // the writer's copy
  return false;
}

void CowDelta::encoded(std::size_t i) {
  tsan_release(&state_[i]); // the encoder's reads happen before the write
  state_[i].store(kEncoded, std::memory_order_release);
}

void CowDelta::retire() {
  std::vector<ObjHeader *> kept;
  {
    // Cleared before retired_ is set: until then a delta object freed is
    // kept, so every header flag_cards reads is intact.
    std::lock_guard lock(kept_mu_);
    if (retired_)
      return;
    flag_cards(false);
    retired_ = true;
    kept.swap(kept_);
  }
  CowDelta *self = this;
  if (cow_current.compare_exchange_strong(self, nullptr, std::memory_order_seq_cst))
    __atomic_store_n(&checksync_rt_cards.in_flight, 0, __ATOMIC_RELEASE);
  for (ObjHeader *h : kept)
    heap_release_kept(h);
}

void CowDelta::save(std::size_t i, bool counted) noexcept {
  std::uint8_t s = kPending;
  if (state_[i].compare_exchange_strong(s, kCopying, std::memory_order_acquire)) {
    try {
      copy_(i);
      if (counted)
        copies_.fetch_add(1, std::memory_order_relaxed);
    } catch (...) {
      failed_.store(true, std::memory_order_release);
    }
    tsan_release(&state_[i]); // the copy happens before the encoder reads it
    state_[i].store(kCopied, std::memory_order_release);
    return;
  }
  // Being encoded (or copied by another thread): its reads must end before
  // this write.
  for (unsigned n = 0; s == kEncoding || s == kCopying;) {
    spin(n);
    s = state_[i].load(std::memory_order_acquire);
  }
  tsan_acquire(&state_[i]); // the encoder's reads (or the copy) end before this write
}

// The delta's objects overlapping [p, p + n), found in objects_ (in address
// order): exact for objects of any size, and no header is read but theirs.
void CowDelta::before_write(const void *p, std::size_t n) noexcept {
  auto a = reinterpret_cast<std::uintptr_t>(p);
  std::uintptr_t b = a + std::max<std::size_t>(n, 1);
  auto it = std::upper_bound(objects_.begin(), objects_.end(), a,
                             [](std::uintptr_t x, const ObjHeader *h) {
                               return x < reinterpret_cast<std::uintptr_t>(h);
                             });
  if (it != objects_.begin())
    --it; // the last object starting at or below a
  for (; it != objects_.end() && reinterpret_cast<std::uintptr_t>(*it) < b; ++it)
    if (end_of(*it) > a)
      save(std::size_t(it - objects_.begin()));
}

bool CowDelta::keep_freed(ObjHeader *h) noexcept {
  // Trivially destructible objects reach here unwritten: copy first.
  auto it = std::lower_bound(objects_.begin(), objects_.end(), h);
  if (it != objects_.end() && *it == h)
    save(std::size_t(it - objects_.begin()));
  std::lock_guard lock(kept_mu_);
  if (retired_)
    return false;
  // Marked under the lock: once listed, retire() may free it at any moment.
  set_magic(h, kKeptMagic);
  kept_.push_back(h);
  return true;
}

void cow_mark_range(const void *p, std::size_t n) noexcept {
  std::uint64_t d = reinterpret_cast<std::uintptr_t>(p) - checksync_rt_cards.lo;
  std::uint64_t span = __atomic_load_n(&checksync_rt_cards.span, __ATOMIC_ACQUIRE);
  if (d >= span || n == 0)
    return;
  std::uint64_t last = std::min<std::uint64_t>(d + n - 1, span - 1);
  std::uint8_t *cards = checksync_rt_cards.cards;
  std::uint64_t c0 = d >> CHECKSYNC_CARD_SHIFT, c1 = last >> CHECKSYNC_CARD_SHIFT;
  if (!__atomic_load_n(&checksync_rt_cards.in_flight, __ATOMIC_ACQUIRE)) {
    // Relaxed atomic stores, as the inline barrier's (plain stores here became
    // a memset, which ThreadSanitizer reported racing with the barrier's).
    for (std::uint64_t c = c0; c <= c1; ++c)
      __atomic_store_n(&cards[c], std::uint8_t(CHECKSYNC_CARD_DIRTY), __ATOMIC_RELAXED);
  } else {
    bool flagged = false;
    for (std::uint64_t c = c0; c <= c1; ++c)
      flagged |= (__atomic_load_n(&cards[c], __ATOMIC_RELAXED) & CHECKSYNC_CARD_IN_FLIGHT) != 0;
    if (flagged) {
      CowUse use;
      if (CowDelta *cd = use.delta())
        cd->before_write(p, last - d + 1);
    }
    // Keep the flag for the card's other objects. Racing with the encoder's
    // clearing this may leave a stale flag: a needless slow path later.
    for (std::uint64_t c = c0; c <= c1; ++c)
      __atomic_store_n(&cards[c], std::uint8_t(__atomic_load_n(&cards[c], __ATOMIC_RELAXED) |
                                               CHECKSYNC_CARD_DIRTY),
                       __ATOMIC_RELAXED);
  }
  for (std::uint64_t g = d >> CHECKSYNC_PAGE_SHIFT; g <= last >> CHECKSYNC_PAGE_SHIFT; ++g)
    __atomic_store_n(&checksync_rt_cards.pages[g], std::uint8_t(1), __ATOMIC_RELAXED);
}

} // namespace checksync::detail

// The write barrier's slow path (abi.h): the card of p is flagged in flight.
// preserve_most, as the pass calls it: the caller's registers survive.
extern "C" __attribute__((preserve_most)) void checksync_rt_write_slow(const void *p) {
  checksync::detail::cow_mark_range(p, 1);
}
