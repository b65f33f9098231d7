// evolve.h - resuming a checkpoint written by another build of the program
// (schema evolution, docs/evolution.md).
//
// Types, fields and roots are matched by name ([[checksync::renamed_from]]
// names a type's or field's former name). A field the program added takes
// its default member initialiser (when the plugin could evaluate it) or is
// value-initialised; one it removed is dropped; a scalar that only widened
// (int32 -> int64, uint16 -> uint32 or int32, float -> double) is converted;
// a scalar that narrows or changes arithmetic kind is converted, clamping,
// only where lossy conversions are allowed (--allow-lossy, or
// [[checksync::allow_lossy]] on the field). Everything else that differs is
// refused before memory is touched, naming the type and field: a change of
// kind, a changed array length, a ref or library value of another type, a
// removed type that objects still have. Records held by value (in fields,
// arrays, library values) follow their own type's plan.
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

struct PlanOptions {
  // Narrowing and changes between integer and floating point, for every field
  // (CHECKSYNC_ALLOW_LOSSY=1, `checksync-rt resume --allow-lossy`).
  bool allow_lossy = false;
  // The old side is a build, not a checkpoint: it has types but no objects,
  // so a removed type is reported as refused only if a checkpoint has objects
  // of it (checksync-schema diff).
  bool objects_unknown = false;
};

// Plans the restore of `img` into this program (throws Error naming the first
// type, field or root that cannot be carried over).
SchemaPlan plan_schema(const Image &img, const std::vector<Type> &types,
                       const std::vector<Root> &roots, const PlanOptions &opts = {});

} // namespace checksync::detail

#endif
