// evolve.h - resuming a checkpoint written by another build of the program
// (schema evolution, docs/evolution.md).
//
// Types, fields and roots are matched by name. A field the program added is
// value-initialised; one it removed is dropped; a scalar that only widened
// (int32 -> int64, uint16 -> uint32 or int32, float -> double) is converted.
// Everything else that differs is refused before memory is touched, naming
// the type and field: narrowing, a change of kind, a changed array length, a
// ref or library value of another type, a removed type that objects still
// have. Records held by value (in fields, arrays, library values) follow
// their own type's plan.
#ifndef CHECKSYNC_RT_EVOLVE_H
#define CHECKSYNC_RT_EVOLVE_H

#include "format/format.h"
#include "schema/types.h"

#include <cstdint>
#include <string>
#include <vector>

namespace checksync::detail {

struct SchemaPlan {
  // By checkpoint type index: the program's type index, or -1 (the program
  // lacks it: no restored object may be of it).
  std::vector<std::int64_t> type_map;
  // By checkpoint type index, by program field: the checkpoint field whose
  // value it takes, or -1 (added: value-initialised).
  std::vector<std::vector<std::int64_t>> field_src;
  // By program root: the checkpoint root it takes its value from, or -1
  // (added: keeps its initial value).
  std::vector<std::int64_t> root_src;
  // One line per type or root that differs, for the log.
  std::vector<std::string> changes;
};

// Plans the restore of `img` into this program (throws Error naming the first
// type, field or root that cannot be carried over).
SchemaPlan plan_schema(const Image &img, const std::vector<Type> &types,
                       const std::vector<Root> &roots);

} // namespace checksync::detail

#endif
