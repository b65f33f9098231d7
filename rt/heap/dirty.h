// dirty.h - turns the write barrier's card marks into the set of objects
// written since the previous checkpoint. Cost: the page table over the used
// arena (one byte per 4 KiB: 256 KiB per GiB) plus the cards of dirty pages,
// i.e. proportional to what changed, not to the heap.
#ifndef CHECKSYNC_RT_DIRTY_H
#define CHECKSYNC_RT_DIRTY_H

#include "heap/heap.h"
#include "schema/types.h"

#include <cstdint>
#include <vector>

namespace checksync::detail {

struct DirtySet {
  std::vector<ObjHeader *> objects; // live objects overlapping a marked card, by address
  std::uint64_t dirty_pages = 0;    // marked 4 KiB pages (page-granular cost)
};

// Collects and clears the marks. Sets each collected object's `mark` to
// `stamp` (never 0, different from every earlier marking's), which dedupes
// objects spanning several cards and tells close_delta (marker.h) which
// objects the delta already holds, and sets `stored` to `chain` (the delta
// will hold them; the header is in cache here).
DirtySet collect_dirty(std::uint32_t stamp, std::uint32_t chain = 0);

// Forgets every mark (after a full checkpoint or a restore: the stored state
// equals the heap).
void clear_dirty();

// Distinct 4 KiB pages covered by these objects (header to end).
std::uint64_t pages_touched(const std::vector<ObjHeader *> &objects,
                            const std::vector<Type> &types);

} // namespace checksync::detail

#endif
