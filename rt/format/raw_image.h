// raw_image.h - a checkpoint file read without decoding its values. The
// compactor merges a base and its deltas by object id and copies each
// surviving object's value bytes as they are: no msgpack trees, no
// re-encoding, memory for the ids of the deltas only (the files are mapped).
#ifndef CHECKSYNC_RT_RAW_IMAGE_H
#define CHECKSYNC_RT_RAW_IMAGE_H

#include "format/format.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace checksync::detail {

// One object as stored: its values' bytes (count * fields values) verbatim.
struct RawObject {
  std::uint64_t id;
  std::uint32_t type; // index in RawImage::types
  std::uint64_t count;
  std::string_view values;
};

class RawImage {
public:
  // Maps the file and checks its envelope (length, checksum) and the parts
  // before the object list. A compressed body is decompressed into memory
  // first. Throws Error.
  explicit RawImage(const std::string &path);
  ~RawImage();
  RawImage(const RawImage &) = delete;
  RawImage &operator=(const RawImage &) = delete;

  // The objects in file order (ascending ids), one per call; false after the
  // last, and then the parts after the object list (freed ids, previous
  // epoch, statistics, chain id) are in info and freed. Throws Error on a
  // malformed object.
  bool next(RawObject &o);

  // From now on next() unmaps what it has passed (a scan that copies each
  // object before asking for the next keeps the resident set small).
  void drop_behind() { drop_behind_ = true; }

  const std::string &path() const { return path_; }
  std::uint32_t version = 0;
  ImageInfo info;                    // epoch, kind, ...; prev_epoch and chain_id after the scan
  std::vector<Type> types;           // decoded schema
  std::string_view schema_bytes;     // the schema as stored
  std::string_view roots_bytes;      // the roots as stored (one msgpack array)
  std::uint32_t object_count = 0;    // as the object list's header says
  std::vector<std::uint64_t> freed;  // after the scan

private:
  [[noreturn]] void fail(const std::string &why) const;
  std::uint64_t uint(const char *ctx);
  std::uint32_t array(const char *ctx);
  void skip(const char *ctx);
  void read_tail();
  void decompress();
  void release();
  std::string path_;
  const char *map_ = nullptr; // the file
  std::size_t map_len_ = 0;
  const char *region_ = nullptr; // what body_ lies in: the file, or its decompressed body
  std::size_t region_len_ = 0;
  const char *body_ = nullptr;
  std::size_t len_ = 0, off_ = 0; // the body and the read position in it
  std::uint32_t seen_ = 0;        // objects returned so far
  std::uint64_t last_id_ = 0;
  bool drop_behind_ = false;
  std::size_t dropped_ = 0; // bytes of the mapping released so far
};

} // namespace checksync::detail

#endif
