// heap.cpp - persistent heap on an exclusive mimalloc arena: object headers,
// the object-start bitmap, cards and pages, live counts. Deletes reach it
// through delete.cpp.
#include "heap/heap.h"

#include "settings/options.h"

#include "heap/cow.h"
#include "heap/tsan.h"

#include "log/log.h"
#include "schema/registry.h"

#include <mimalloc.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <mutex>
#include <thread>
#include <new>
#include <utility>
#include <vector>
#include <algorithm>
#include <sys/mman.h>
#include <unistd.h>

namespace checksync::detail {
namespace {

std::once_flag arena_once;
mi_arena_id_t arena_id;
std::uintptr_t arena_lo = 0, arena_hi = 0; // [lo, hi), 0/0 until reserved
// hi - lo, published (release) once lo and hi are set: every operator delete
// asks in_heap(), possibly while another thread reserves the arena.
std::atomic<std::uintptr_t> arena_span{0};

// Object-start bitmap: bit i set <=> a live header at arena_lo + 16 * i.
// Reserved with MAP_NORESERVE: the OS backs only the parts that are touched.
std::atomic<std::uint64_t> *start_bits = nullptr;
constexpr std::uint64_t kGranule = 16;

std::atomic<std::uint64_t> next_id{1};
std::atomic<std::uintptr_t> used_hi{0}; // end of the highest block ever allocated
std::mutex freed_mu;
std::vector<std::uint64_t> freed_ids; // since the last take_freed_ids()
std::atomic<std::uint64_t> live_objects{0};
std::atomic<std::uint64_t> live_bytes{0};

[[noreturn]] void fatal(const char *msg) {
  LOG_ERROR("%s", msg);
  std::abort();
}

// Dirty objects, their cards and their bitmap words are scattered: with 4 KiB
// pages nearly every one is a TLB miss on a large heap (in the barrier and in
// the checkpoint pause). Transparent huge pages, where the system allows them
// (`madvise` mode), make these ordinary cache misses. Advice only: failure is
// harmless.
void advise_huge(void *p, std::size_t bytes) {
#ifdef MADV_HUGEPAGE
  ::madvise(p, bytes, MADV_HUGEPAGE);
#endif
}

// Lazily backed zero memory (the OS commits only what is touched).
void *map_noreserve(std::size_t bytes) {
  void *p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    fatal("cannot reserve the persistent heap's side tables");
  advise_huge(p, bytes);
  return p;
}

// Reserves address space only; mimalloc commits on demand. Size from
// CHECKSYNC_HEAP_RESERVE_GB (default 64), halved until the OS agrees.
void reserve_arena() {
  link_deletes(); // the replacement of operator delete comes with the heap
  std::size_t gb = options::uint("CHECKSYNC_HEAP_RESERVE_GB");
  for (std::size_t size = gb << 30; size >= (std::size_t(1) << 28); size /= 2) {
    if (mi_reserve_os_memory_ex(size, /*commit=*/false, /*allow_large=*/false,
                                /*exclusive=*/true, &arena_id) == 0) {
      std::size_t got = 0;
      void *base = mi_arena_area(arena_id, &got);
      advise_huge(base, got);
      std::size_t words = (got / kGranule + 63) / 64;
      start_bits = static_cast<std::atomic<std::uint64_t> *>(map_noreserve(words * 8));
      arena_lo = reinterpret_cast<std::uintptr_t>(base);
      arena_hi = arena_lo + got;
      arena_span.store(got, std::memory_order_release);
      // Card and page tables for the write barrier; published last (span
      // non-zero turns the barrier on).
      checksync_rt_cards.cards =
          static_cast<std::uint8_t *>(map_noreserve(got >> CHECKSYNC_CARD_SHIFT));
      checksync_rt_cards.pages =
          static_cast<std::uint8_t *>(map_noreserve(got >> CHECKSYNC_PAGE_SHIFT));
      checksync_rt_cards.lo = arena_lo;
      __atomic_store_n(&checksync_rt_cards.span, std::uint64_t(got), __ATOMIC_RELEASE);
      return;
    }
  }
  fatal("cannot reserve address space for the persistent heap");
}

// mimalloc heaps allocate only from the thread that made them. A heap per
// thread is fastest, but a thread that makes a few objects and exits leaves
// its heap's segment abandoned, and mimalloc rarely reclaims abandoned
// segments for an arena heap: threads that each allocated one object used
// up a 1 GiB arena with under 10k live objects. So a thread allocates from
// one shared heap, under a lock, until it has made kOwnHeapAfter objects;
// only a thread that allocates more gets a heap of its own.
constexpr unsigned kOwnHeapAfter = 256;

// The shared heap belongs to a thread of its own that never allocates or
// frees (and never exits, which would abandon the heap): every free into it
// is then mimalloc's cross-thread free (atomic), and every allocation holds
// `mu`, so it is used by one thread at a time.
struct SharedHeap {
  std::mutex mu;
  mi_heap_t *heap = nullptr;
};

std::atomic<SharedHeap *> shared_made{nullptr};

SharedHeap *shared_if_made() noexcept { return shared_made.load(std::memory_order_acquire); }

SharedHeap &shared_heap() {
  static SharedHeap *shared = [] {
    std::call_once(arena_once, reserve_arena);
    auto *s = new SharedHeap;
    std::promise<mi_heap_t *> made;
    std::future<mi_heap_t *> heap = made.get_future();
    std::thread([&made] {
      made.set_value(mi_heap_new_in_arena(arena_id));
      for (;;) // parked for the life of the process
        ::pause();
    }).detach();
    s->heap = heap.get();
    if (!s->heap)
      fatal("cannot create a heap in the persistent arena");
    shared_made.store(s, std::memory_order_release);
    return s;
  }();
  return *shared;
}

// This thread's own heap once it has allocated enough, else null.
mi_heap_t *own_heap() {
  thread_local mi_heap_t *heap = nullptr;
  thread_local unsigned allocations = 0;
  if (!heap && ++allocations > kOwnHeapAfter) {
    std::call_once(arena_once, reserve_arena);
    heap = mi_heap_new_in_arena(arena_id);
    if (!heap)
      fatal("cannot create a heap in the persistent arena");
  }
  return heap;
}

void *arena_malloc(mi_heap_t *heap, std::uint64_t bytes, std::uint64_t align) {
  return align <= alignof(ObjHeader)
             ? mi_heap_malloc(heap, sizeof(ObjHeader) + bytes)
             : mi_heap_malloc_aligned_at(heap, sizeof(ObjHeader) + bytes, align,
                                         sizeof(ObjHeader));
}

void set_start(const ObjHeader *h, bool on) {
  std::uint64_t i = (reinterpret_cast<std::uintptr_t>(h) - arena_lo) / kGranule;
  std::uint64_t bit = std::uint64_t(1) << (i % 64);
  if (on)
    start_bits[i / 64].fetch_or(bit, std::memory_order_relaxed);
  else
    start_bits[i / 64].fetch_and(~bit, std::memory_order_relaxed);
}

inline void mark_card(std::uintptr_t a) {
  std::uint64_t d = a - arena_lo;
  // Keeps the in-flight flag of an older object sharing the card (cow.h).
  std::uint8_t *card = &checksync_rt_cards.cards[d >> CHECKSYNC_CARD_SHIFT];
  __atomic_store_n(card, std::uint8_t(__atomic_load_n(card, __ATOMIC_RELAXED) | CHECKSYNC_CARD_DIRTY),
                   __ATOMIC_RELAXED);
  checksync_rt_cards.pages[d >> CHECKSYNC_PAGE_SHIFT] = 1;
}

} // namespace

void heap_note_freed(const std::vector<std::uint64_t> &ids) {
  std::lock_guard lock(freed_mu);
  freed_ids.insert(freed_ids.end(), ids.begin(), ids.end());
}

std::vector<std::uint64_t> take_freed_ids() {
  std::lock_guard lock(freed_mu);
  return std::exchange(freed_ids, {});
}

HeapRange heap_range() noexcept {
  return {arena_lo, used_hi.load(std::memory_order_relaxed)};
}

const std::atomic<std::uint64_t> *start_bitmap() noexcept { return start_bits; }

void *heap_alloc(std::uint32_t type, std::uint64_t elem_size, std::uint64_t align,
                 std::uint64_t count, std::uint64_t id) {
  std::uint64_t bytes = elem_size * count;
  if (count != 0 && bytes / count != elem_size)
    fatal("persistent allocation size overflows");
  void *block;
  if (mi_heap_t *own = own_heap()) {
    block = arena_malloc(own, bytes, align);
  } else {
    SharedHeap &shared = shared_heap();
    std::lock_guard lock(shared.mu);
    block = arena_malloc(shared.heap, bytes, align);
  }
  if (!block)
    fatal("out of memory in the persistent heap (raise CHECKSYNC_HEAP_RESERVE_GB)");
  tsan_acquire(block); // mimalloc's free lists are invisible to TSan
  auto *h = static_cast<ObjHeader *>(block);
  set_magic(h, kLiveMagic);
  h->type = type;
  h->id = id ? id : next_id.fetch_add(1, std::memory_order_relaxed);
  h->count = count;
  h->mark = 0;
  h->stored = 0;
  set_start(h, true);
  mark_card(reinterpret_cast<std::uintptr_t>(h)); // new objects are dirty
  std::uintptr_t end = reinterpret_cast<std::uintptr_t>(h->payload()) + bytes;
  for (std::uintptr_t cur = used_hi.load(std::memory_order_relaxed);
       end > cur && !used_hi.compare_exchange_weak(cur, end, std::memory_order_relaxed);) {
  }
  live_objects.fetch_add(1, std::memory_order_relaxed);
  live_bytes.fetch_add(bytes, std::memory_order_relaxed);
  return h->payload();
}

void heap_free(void *payload) noexcept {
  auto *h = static_cast<ObjHeader *>(payload) - 1;
  if (magic_of(h) != kLiveMagic)
    fatal("delete of a pointer into the persistent heap that is not a live object "
          "(double delete, or a pointer into the middle of an object)");
  std::uint64_t bytes = h->count * registry_type_size(h->type);
  {
    std::lock_guard lock(freed_mu);
    freed_ids.push_back(h->id);
  }
  live_objects.fetch_sub(1, std::memory_order_relaxed);
  live_bytes.fetch_sub(bytes, std::memory_order_relaxed);
  // While a delta is encoded, refs to this object must still resolve to its
  // id: the block stays (header intact) until the encoder is done (cow.h).
  {
    CowUse use;
    if (CowDelta *d = use.delta(); d && d->keep_freed(h))
      return;
  }
  heap_release_kept(h);
}

void heap_release_kept(ObjHeader *h) noexcept {
  tsan_release(h); // the last use happens before the block's next life
  set_magic(h, kFreedMagic);
  set_start(h, false);
  // A shared-heap segment belongs to the thread that made mimalloc allocate
  // it, and that thread's frees into it take mimalloc's unlocked local path,
  // which touches the pages others allocate from under the lock: frees into
  // the shared heap take the lock too.
  if (SharedHeap *shared = shared_if_made(); shared && mi_heap_contains_block(shared->heap, h)) {
    std::lock_guard lock(shared->mu);
    mi_free(h);
    return;
  }
  mi_free(h);
}

bool in_heap(const void *p) noexcept {
  std::uintptr_t span = arena_span.load(std::memory_order_acquire);
  return reinterpret_cast<std::uintptr_t>(p) - arena_lo < span; // false until reserved
}

ObjHeader *header_of(const void *p) noexcept {
  auto a = reinterpret_cast<std::uintptr_t>(p);
  if (!in_heap(p) || a < arena_lo + sizeof(ObjHeader) || a % alignof(ObjHeader))
    return nullptr;
  auto *h = reinterpret_cast<ObjHeader *>(a) - 1;
  return magic_of(h) == kLiveMagic ? h : nullptr;
}

ObjHeader *find_object(const void *p, std::uint64_t *offset, bool kept) noexcept {
  if (ObjHeader *h = header_of(p)) {
    *offset = 0;
    return h;
  }
  auto a = reinterpret_cast<std::uintptr_t>(p);
  if (arena_span.load(std::memory_order_acquire) == 0 || a < arena_lo + sizeof(ObjHeader) ||
      a > arena_hi)
    return nullptr;
  // The nearest object start at or below p - header, scanning the bitmap down
  // (at most 64 MiB of arena: objects larger than that need exact pointers).
  std::uint64_t i = (a - sizeof(ObjHeader) - arena_lo) / kGranule;
  std::uint64_t w = i / 64;
  std::uint64_t word = start_bits[w].load(std::memory_order_relaxed) &
                       (~std::uint64_t(0) >> (63 - i % 64));
  for (std::uint64_t scanned = 0; !word; ++scanned) {
    if (w == 0 || scanned == (std::uint64_t(64) << 20) / kGranule / 64)
      return nullptr;
    word = start_bits[--w].load(std::memory_order_relaxed);
  }
  std::uint64_t bit = 63 - std::uint64_t(__builtin_clzll(word));
  auto *h = reinterpret_cast<ObjHeader *>(arena_lo + (w * 64 + bit) * kGranule);
  if (magic_of(h) != kLiveMagic && !(kept && magic_of(h) == kKeptMagic))
    return nullptr;
  std::uint64_t off = a - reinterpret_cast<std::uintptr_t>(h->payload());
  if (off > h->count * registry_type_size(h->type))
    return nullptr; // past the end of that object: not inside any
  *offset = off;
  return h;
}

void heap_reset_marks() noexcept {
  std::uintptr_t hi = used_hi.load(std::memory_order_relaxed);
  if (!start_bits || hi <= arena_lo)
    return;
  std::uint64_t words = (hi - arena_lo) / kGranule / 64 + 1;
  for (std::uint64_t w = 0; w < words; ++w)
    for (std::uint64_t bits = start_bits[w].load(std::memory_order_relaxed); bits;
         bits &= bits - 1) {
      auto *h = reinterpret_cast<ObjHeader *>(
          arena_lo + (w * 64 + std::uint64_t(__builtin_ctzll(bits))) * kGranule);
      if (magic_of(h) == kLiveMagic)
        h->mark = 0;
    }
}

HeapStats heap_stats() noexcept {
  return {live_objects.load(std::memory_order_relaxed),
          live_bytes.load(std::memory_order_relaxed)};
}

void heap_reserve_ids_through(std::uint64_t max_id) noexcept {
  std::uint64_t cur = next_id.load();
  while (cur <= max_id && !next_id.compare_exchange_weak(cur, max_id + 1)) {
  }
}

} // namespace checksync::detail

// ---- ABI entry points ------------------------------------------------------

checksync_card_table checksync_rt_cards = {0, 0, nullptr, nullptr, 0};

extern "C" void checksync_rt_mark_range(const void *p, size_t n) {
  checksync::detail::cow_mark_range(p, n);
}

extern "C" void *checksync_rt_new(const checksync_type_desc *type, size_t size) {
  using namespace checksync::detail;
  std::uint32_t index = registry_index_of(type);
  std::uint64_t elem = type->size ? type->size : 1;
  return heap_alloc(index, elem, type->align, size / elem);
}
