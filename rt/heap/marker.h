// marker.h - finds every persistent object reachable from the roots.
#ifndef CHECKSYNC_RT_MARKER_H
#define CHECKSYNC_RT_MARKER_H

#include "heap/heap.h"
#include "schema/types.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace checksync::detail {

struct MarkResult {
  std::vector<ObjHeader *> objects; // reachable, sorted by id
  std::uint64_t payload_bytes = 0;  // sum of count * sizeof(T)
};

// Marks from `roots`. Every non-null ref must point to the start of a live
// persistent object of the field's type; otherwise throws Error naming the
// root or object and field. `mark` must differ from the previous call's.
MarkResult mark_from_roots(const std::vector<Type> &types, const std::vector<Root> &roots,
                           std::uint32_t mark);

// Makes a delta closed under references: `objects` holds the objects written
// since the previous checkpoint (as collect_dirty leaves them: mark == `mark`,
// stored == `chain`, in address order); adds
// every object reachable from them or from the roots whose current value no
// file of checkpoint chain `chain` holds (ObjHeader::stored != chain): an
// object allocated long ago and linked in now. Checks every ref of the
// written objects and roots like mark_from_roots (throws Error), sets
// stored = chain on what it adds and keeps the result in address order. Cost: the refs of what
// is written, plus the newly reachable objects.
// `garbage_may_dangle`: every reachable object was checked already (a
// marking from the roots just succeeded), so a bad ref belongs to garbage:
// skip it instead of throwing (the encoder writes it as null).
void close_delta(const std::vector<Type> &types, const std::vector<Root> &roots,
                 std::vector<ObjHeader *> &objects, std::uint32_t mark, std::uint32_t chain,
                 bool garbage_may_dangle = false);

// After a restore: rewrites every iterator the given objects and roots hold
// from the node id it was decoded with to resolve(id, kind of node the
// iterator needs) (null: singular). Refs are left alone.
using NodeResolver = std::function<void *(std::uint64_t, const void *)>;
void fix_iterators(const std::vector<Type> &types, const std::vector<const Root *> &roots,
                   const std::vector<ObjHeader *> &objects, const NodeResolver &resolve);

// Finds the field path of a byte offset inside a type (for error messages).
std::string field_path(const std::vector<Type> &types, std::int64_t type,
                       std::uint64_t offset);

} // namespace checksync::detail

#endif
