// capture.h - a delta checkpoint in two steps, so that only the first one
// stops the program (docs/performance.md):
//
//   capture_delta   on the caller of checkpoint(), at the consistent point:
//                   copies the dirty objects' bytes, packs what needs the live
//                   heap (refs as object ids, library values such as strings
//                   and containers, through their codecs) and the roots.
//   encode_capture  on the runtime's pipeline thread, while the program runs:
//                   msgpack framing and numbers, the file's trailer and
//                   checksum. The bytes equal encode_image's for that state.
//
// A Capture owns reusable buffers: the runtime recycles it for the next
// checkpoint, so steady-state captures neither allocate nor page-fault.
#ifndef CHECKSYNC_RT_CAPTURE_H
#define CHECKSYNC_RT_CAPTURE_H

#include "format/format.h"
#include "format/out_buffer.h"
#include "schema/registry.h"

#include <memory>
#include <string>
#include <vector>

namespace checksync::detail {

struct CapturedObject {
  std::uint64_t id;
  std::uint32_t type;
  std::uint64_t count;
  std::uintptr_t address; // the header's, for pages_touched
  std::size_t bytes_at;   // payload copy in Capture::bytes
  std::size_t packed_at;  // first packed leaf in Capture::packed
};

struct Capture {
  std::shared_ptr<const Snapshot> snap;
  ImageInfo info;
  std::vector<std::uint64_t> freed;
  std::vector<CapturedObject> objects; // by id
  std::vector<char> bytes;             // payload copies
  OutBuffer packed;                    // leaves: [u32 length][msgpack], in walk order
  OutBuffer roots;                     // every root, head and value, packed
  std::vector<char> leafy;             // by type: has a REF or CODEC field
  std::vector<std::vector<CodecSlot>> prefetch; // by type: top-level library values
  const Snapshot *leafy_for = nullptr;
};

// Fills `c` (whose buffers it reuses) from `objects` (sorted by id). Runs
// codecs: throws what they throw, and Error for a bad ref.
void capture_delta(Capture &c, std::shared_ptr<const Snapshot> snap, const ImageInfo &info,
                   const std::vector<ObjHeader *> &objects, std::vector<std::uint64_t> freed);

// The checkpoint file for a capture; touches nothing but the capture. Also
// sets c.info.stats.pages_touched.
std::string encode_capture(Capture &c);

} // namespace checksync::detail

#endif
