// capture.h - a delta checkpoint encoded on the runtime's encoder thread
// while the program runs on (docs/performance.md).
//
// At checkpoint() (the consistent point) the caller collects the delta's
// objects and constructs a DeltaEncoding: it packs the roots and publishes
// the objects for copy-on-write (heap/cow.h). That is all the program waits
// for. encode() then packs the objects straight from the heap; an object
// the program writes before the encoder reaches it is copied first (its
// bytes, and its refs and library values packed) and encoded from the copy.
// The bytes equal encode_image's for the state at checkpoint().
#ifndef CHECKSYNC_RT_CAPTURE_H
#define CHECKSYNC_RT_CAPTURE_H

#include "format/format.h"
#include "heap/cow.h"
#include "schema/registry.h"

#include <memory>
#include <string>
#include <vector>

namespace checksync::detail {

class DeltaEncoding {
public:
  // objects: in address order (collect_dirty/close_delta); encode() writes
  // them by id. Runs the roots' codecs: throws what they throw.
  DeltaEncoding(std::shared_ptr<const Snapshot> snap, const ImageInfo &info,
                std::vector<ObjHeader *> objects, std::vector<std::uint64_t> freed);
  ImageInfo &info() { return info_; }
  const std::vector<ObjHeader *> &objects() const { return cow_.objects(); }
  const std::vector<std::uint64_t> &freed() const { return freed_; }
  std::uint64_t copies() const { return cow_.copies(); }
  // In the pause: packs these objects' values now, so that the program may
  // write them (through iterators no barrier sees) while encode() runs.
  void copy_now(const std::vector<ObjHeader *> &objects);
  // Once, on any thread; ends copy-on-write. Throws Error if a library
  // value's codec threw (while encoding or copying): the delta is lost.
  std::string encode();

private:
  struct Copy {
    std::unique_ptr<char[]> data; // payload bytes, then packed leaves
    std::size_t payload = 0;
    bool nodes = false; // its library values hold a container in node form
  };
  void copy(std::size_t i);

  std::shared_ptr<const Snapshot> snap_;
  ImageInfo info_;
  std::vector<std::uint64_t> freed_;
  std::string roots_; // every root, head and value, packed
  std::vector<Copy> copies_;
  CowDelta cow_;
};

} // namespace checksync::detail

#endif
