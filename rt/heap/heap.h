// heap.h - the persistent heap: an exclusive mimalloc arena, one mimalloc heap
// per thread, and a header in front of every persistent object.
//
//   block:  [ ObjHeader (32 bytes) ][ payload: count * sizeof(T) ]
//                                    ^ the pointer user code sees
//
// Because the arena is one contiguous range, "is this a persistent object?" is
// two compares plus a magic check (in_heap / header_of).
#ifndef CHECKSYNC_RT_HEAP_H
#define CHECKSYNC_RT_HEAP_H

#include <checksync/abi.h>

#include <cstddef>
#include <atomic>
#include <cstdint>
#include <vector>

namespace checksync::detail {

// Defined in delete.cpp, which replaces the global operator delete: a
// reference from the heap links it into every program that has one.
void link_deletes() noexcept;

constexpr std::uint32_t kLiveMagic = 0x4353594e;  // "CSYN"
constexpr std::uint32_t kFreedMagic = 0x46524545; // "FREE"
constexpr std::uint32_t kKeptMagic = 0x4b455054;  // "KEPT": freed, kept for an encoder (cow.h)

struct alignas(16) ObjHeader {
  std::uint32_t magic;
  std::uint32_t type;  // index in the runtime registry
  std::uint64_t id;    // stable across checkpoints and resumes, never 0
  std::uint64_t count; // elements: 1 for new T, n for new T[n]
  std::uint32_t mark;  // stamp of the last marking or delta collection that reached it
  // Number of the checkpoint chain (runtime.cpp) whose files hold this
  // object's current value; 0: none does. A delta adds every object that
  // becomes reachable without it, so a chain stays closed under references.
  std::uint32_t stored;
  void *payload() { return this + 1; }
};
static_assert(sizeof(ObjHeader) == 32);

// The encoder thread reads a header's magic while a mutator frees the block
// (cow.h): every access to it is atomic (relaxed; the order comes from the
// copy-on-write protocol's own synchronisation).
inline std::uint32_t magic_of(const ObjHeader *h) noexcept {
  return __atomic_load_n(&h->magic, __ATOMIC_RELAXED);
}
inline void set_magic(ObjHeader *h, std::uint32_t m) noexcept {
  __atomic_store_n(&h->magic, m, __ATOMIC_RELAXED);
}

// Allocates count elements of `elem_size` bytes aligned to `align` for the
// type with registry index `type`. id 0 assigns a fresh id. Never returns null:
// prints a message and aborts when the arena is exhausted.
void *heap_alloc(std::uint32_t type, std::uint64_t elem_size, std::uint64_t align,
                 std::uint64_t count, std::uint64_t id = 0);
// Frees a payload pointer returned by heap_alloc.
void heap_free(void *payload) noexcept;
// Returns a block heap_free kept for an encoder (cow.h) to the allocator.
void heap_release_kept(ObjHeader *h) noexcept;

// True when p lies in the persistent arena (reserved lazily on first use).
bool in_heap(const void *p) noexcept;
// The header of the live object whose payload starts at p, or null.
ObjHeader *header_of(const void *p) noexcept;
// The live object whose payload contains p (or ends at p: one past the end is
// a valid C++ pointer), or null; *offset = p - payload. Uses the object-start
// bitmap (one bit per 16 bytes of arena), so interior pointers - a base
// subobject, an array element, a field - resolve to their object. `kept`:
// also objects freed while a delta is encoded (the encoder's refs, cow.h).
ObjHeader *find_object(const void *p, std::uint64_t *offset, bool kept = false) noexcept;

// Object ids freed since the previous call (for incremental checkpoints).
std::vector<std::uint64_t> take_freed_ids();
// Reports ids as freed in the next delta without a live object (a resume
// dropped them as garbage; the chain still holds them).
void heap_note_freed(const std::vector<std::uint64_t> &ids);

// [lo, used_hi): the part of the arena that ever held objects.
struct HeapRange {
  std::uintptr_t lo, hi;
};
HeapRange heap_range() noexcept;
const std::atomic<std::uint64_t> *start_bitmap() noexcept;
constexpr std::uint64_t kStartGranule = 16; // bytes per bit of the start bitmap

struct HeapStats {
  std::uint64_t live_objects;
  std::uint64_t live_bytes; // payload bytes, headers excluded
};
HeapStats heap_stats() noexcept;

// Sets every live object's mark to 0 (no stamp is 0): stamps are compared
// for equality only, so when the 32-bit stamp counter wraps, a cold object's
// old mark must not equal a new stamp. O(used arena), once per 2^32 stamps.
void heap_reset_marks() noexcept;

// Ids: fresh ids are larger than every id seen (resume restores old ids).
void heap_reserve_ids_through(std::uint64_t max_id) noexcept;

} // namespace checksync::detail

#endif
