// restore.h - rebuilds persistent objects and roots from a decoded checkpoint.
#ifndef CHECKSYNC_RT_RESTORE_H
#define CHECKSYNC_RT_RESTORE_H

#include "format/format.h"
#include "heap/heap.h"
#include "schema/types.h"

namespace checksync::detail {

// Checks that the checkpoint can be restored into this program, which may be
// another build (evolve.h): throws Error naming the first type, field or root
// that cannot be carried over, before touching memory.
void check_schema(const Image &img, const std::vector<Type> &types,
                  const std::vector<Root> &roots);

// Allocates every reachable object of `img` (Image::reachable) in the
// persistent heap with its old id, decodes fields with refs swizzled to the
// new addresses, then sets the roots. Marks each as held by checkpoint chain
// `chain` (ObjHeader::stored); the ids of the unreachable ones, not restored,
// go to *dropped. Iterators into restored containers are pointed at the
// rebuilt nodes; the objects holding such containers or iterators go to
// *renumbered (their node ids changed: the next checkpoint must write them).
// Types that differ from the checkpoint's are carried over as evolve.h says;
// one line per change is logged and goes to *changes. Returns the number of
// objects restored. Checks the schema first.
std::uint64_t restore_image(const Image &img, const std::vector<Type> &types,
                            const std::vector<Root> &roots, std::uint32_t chain = 0,
                            std::vector<std::uint64_t> *dropped = nullptr,
                            std::vector<ObjHeader *> *renumbered = nullptr,
                            std::vector<std::string> *changes = nullptr);

} // namespace checksync::detail

#endif
