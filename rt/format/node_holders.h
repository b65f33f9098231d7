// node_holders.h - the objects whose library values hold containers in node
// form (codec_std.h: iterators into them are kept somewhere).
//
// An element of such a container can be written through an iterator the
// program keeps, and no barrier sees that write: the node is library
// memory, not the object. So these objects are written at every checkpoint
// (docs/iterators.md). The set is learnt from encoding: an object whose
// encoding wrote a node joins it; one encoded without any leaves it; freed
// ones are dropped when found. (Packing their values during the pause goes
// by type, Type::holds_nodes, so it also covers holders not learnt yet.)
#ifndef CHECKSYNC_RT_NODE_HOLDERS_H
#define CHECKSYNC_RT_NODE_HOLDERS_H

#include "heap/heap.h"

#include <cstdint>
#include <vector>

namespace checksync::codec {
// Container nodes this thread has encoded so far (put_node).
std::uint64_t nodes_encoded();
} // namespace checksync::codec

namespace checksync::detail {

// After encoding object h: `wrote_nodes` says whether its values wrote
// container nodes. Any thread.
void note_node_holder(const ObjHeader *h, bool wrote_nodes);
// The live objects of the set, in address order (freed ones are dropped).
std::vector<ObjHeader *> node_holders();

} // namespace checksync::detail

#endif
