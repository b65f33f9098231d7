// format.h - the checkpoint file format (docs/format.md): a fixed header, a
// msgpack body (schema, roots, objects with refs as object ids) and a trailer
// with the body length and an XXH3-64 checksum. One place for every magic.
#ifndef CHECKSYNC_RT_FORMAT_H
#define CHECKSYNC_RT_FORMAT_H

#include "heap/marker.h"
#include "schema/types.h"

#include <msgpack.hpp>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace checksync::detail {

constexpr char kFileMagic[8] = {'C', 'S', 'Y', 'N', 'C', 'K', 'P', 'T'};
// 2: deltas, freed ids, statistics. 3: chain ids; refs in records inside
// library values are ext refs (so reachability sees them). Version 2 files
// are still read (every object then counts as reachable).
constexpr std::uint32_t kFormatVersion = 3;
constexpr std::uint32_t kOldestFormatVersion = 2;
// 4: a compressed version 3 file. The header's flags word says how the body
// is stored (kFlagZstd: one zstd frame); length and checksum in the trailer
// are the stored bytes'. Written only by compaction: readers before it refuse
// such a file by its version instead of misreading it.
constexpr std::uint32_t kCompressedVersion = 4;
constexpr std::uint32_t kFlagZstd = 1;
// The body inside a file of this envelope version.
constexpr std::uint32_t body_version(std::uint32_t v) { return v == kCompressedVersion ? 3 : v; }
constexpr std::size_t kHeaderBytes = 16;  // magic, u32 version, u32 flags
constexpr std::size_t kTrailerBytes = 16; // u64 body length, u64 XXH3-64
constexpr const char *kFileSuffix = ".csk";

// What one checkpoint cost (also the public checksync::checkpoint_stats).
struct CheckpointStats {
  std::uint64_t objects = 0;       // objects written
  std::uint64_t payload_bytes = 0; // their sizeof(T) * count
  std::uint64_t pause_us = 0;      // time inside checkpoint()
  std::uint64_t pages_touched = 0; // distinct 4 KiB pages those objects occupy
  std::uint64_t dirty_pages = 0;   // pages the write barrier marked
};

struct ImageInfo {
  std::uint64_t epoch = 0;
  std::string kind = "full";    // "full" or "delta"
  std::uint64_t prev_epoch = 0; // delta: the epoch it applies to
  std::uint64_t created_ms = 0; // unix time
  std::string program;          // argv[0] of the writer, informative
  // Random, drawn at each full checkpoint; its deltas carry it. A delta joins
  // a chain only with the same id: epoch numbers alone do not tell two
  // runs' chains apart. 0 in version 2 files.
  std::uint64_t chain_id = 0;
  std::uint64_t live_objects = 0, live_bytes = 0; // whole heap when written
  CheckpointStats stats;
  // When set, encode_image records the time from here to the end of encoding
  // as stats.pause_us (the whole checkpoint() up to its last byte).
  std::chrono::steady_clock::time_point started{};
};

// Encodes a checkpoint: `objects` (sorted by id) with their values, the roots,
// and for a delta the ids freed since the previous epoch. `types` and `roots`
// are the program's (registry snapshot); type indices are indices in `types`.
std::string encode_image(const ImageInfo &info, const std::vector<Type> &types,
                         const std::vector<Root> &roots,
                         const std::vector<ObjHeader *> &objects,
                         const std::vector<std::uint64_t> &freed);
inline std::string encode_full(const ImageInfo &info, const std::vector<Type> &types,
                               const std::vector<Root> &roots, const MarkResult &marked) {
  return encode_image(info, types, roots, marked.objects, {});
}

struct DecodedObject {
  std::uint64_t id;
  std::uint32_t type; // index in Image::types
  std::uint64_t count;
  const msgpack::object *values; // count * fields.size() values
};

struct DecodedRoot {
  Root root; // address null
  const msgpack::object *value;
};

// A decoded checkpoint: one file, or a base with its deltas merged. After
// decode_image / merge_chain everything in it was validated: checksums,
// structure, every value against its field's kind, every ref id.
struct Image {
  ImageInfo info;
  std::vector<Type> types;
  std::vector<DecodedRoot> roots;
  std::vector<DecodedObject> objects; // sorted by id
  std::vector<std::uint64_t> freed;   // delta: ids freed in its epoch
  std::vector<std::unique_ptr<Image>> parts; // merged files (own the values)
  std::uint64_t file_bytes = 0;
  std::uint32_t version = kFormatVersion; // of the body (merged: the oldest part)
  bool compressed = false;                // stored as a zstd frame
  std::string bytes;             // owns the data msgpack references
  msgpack::object_handle handle; // owns the decoded tree
  // Index of object `id` in `objects`, or -1. O(1) when ids are dense (the
  // usual case: ids are allocation order), else a binary search.
  std::int64_t find(std::uint64_t id) const;
  std::uint64_t object_bytes(std::size_t index) const; // count * sizeof(T)
  std::vector<std::int32_t> dense; // index by id - dense_base, -1 = absent
  std::uint64_t dense_base = 0;
  // Set by validate_image: reachable[i] is 1 when objects[i] is reachable
  // from the roots. A chain also carries garbage (objects written while
  // unreachable, kept because the program may link them in again); garbage
  // may hold dangling refs (to objects deleted later), so only reachable
  // objects must have every ref resolve, and resume restores only those.
  std::vector<std::uint8_t> reachable;
};

// Checks magic, version, flags, length and checksum only (cheap: no
// decoding). Returns the envelope version.
std::uint32_t check_envelope(std::string_view bytes, const std::string &what);

// Throws Error with a one-line reason ("checksum mismatch", "truncated", ...).
// `what` (a file name) prefixes messages. parse_image checks structure only;
// validate_image checks values and refs (a lone delta's refs point outside
// it: validate the merged chain instead).
std::unique_ptr<Image> parse_image(std::string bytes, const std::string &what);
void validate_image(Image &img, const std::string &what);
// validate_image without the refs (which a lone delta cannot resolve): every
// value matches its field's kind. What `serve` checks before acknowledging.
void validate_values(const Image &img, const std::string &what);
// Calls visit(id) for every object a field value refers to (REF fields,
// refs inside library values and records), as reachability sees them.
void for_each_ref(const Image &img, const msgpack::object &v, const Field &f,
                  const std::function<void(std::uint64_t)> &visit);
// The schema part of a body (parse_image's, and RawImage's).
std::vector<Type> decode_schema(const msgpack::object &o, const std::string &what);
inline std::unique_ptr<Image> decode_image(std::string bytes, const std::string &what) {
  auto img = parse_image(std::move(bytes), what);
  validate_image(*img, what);
  return img;
}
// Applies deltas (in epoch order, each to the previous) to a full base and
// validates the result. Throws Error if the chain is broken or mixes schemas.
std::unique_ptr<Image> merge_chain(std::vector<std::unique_ptr<Image>> parts,
                                   const std::string &what);
// Re-encodes a (merged) image as one full checkpoint file (a resumed
// program's first image for its backup, the oracle; compaction copies bytes
// instead: store/merge.h).
std::string encode_merged(const Image &img);

// Clears flush-to-zero and denormals-are-zero while it lives: a program
// built with -ffast-math runs with them set, and then every float conversion
// in decoding (msgpack-c's float32 -> double, narrow_float) would turn
// subnormal values into 0.
class ExactFloats {
public:
#if defined(__x86_64__) || defined(__i386__)
  ExactFloats() : saved_(__builtin_ia32_stmxcsr()) { __builtin_ia32_ldmxcsr(saved_ & ~0x8040u); }
  ~ExactFloats() { __builtin_ia32_ldmxcsr(saved_); }
private:
  unsigned saved_;
#endif
};

// A float NaN travels as a float64 widened bit by bit: msgpack-c decodes a
// float32 by converting it to double, which quiets a signalling NaN. Moving a
// double's bits never changes them, and narrow_float undoes the widening.
inline std::uint64_t widen_float_bits(std::uint32_t f) {
  return (std::uint64_t(f >> 31) << 63) | (std::uint64_t(0x7ff) << 52) |
         (std::uint64_t(f & 0x7fffff) << 29);
}
inline float narrow_float(double d) {
  if (d == d)
    return float(d);
  std::uint64_t b;
  std::memcpy(&b, &d, 8);
  std::uint32_t mant = std::uint32_t(b >> 29) & 0x7fffff;
  std::uint32_t bits = (std::uint32_t(b >> 63) << 31) | 0x7f800000u | (mant ? mant : 0x400000u);
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Re-packs a decoded value with its exact msgpack kind and bits. msgpack-c's
// own pack(object) writes whole-number floats as integers and loses -0.0;
// every stage that re-encodes decoded values uses this (encode_merged).
template <class Stream>
void pack_exact(msgpack::packer<Stream> &pk, const msgpack::object &o) {
  switch (o.type) {
  case msgpack::type::FLOAT32: {
    float f = narrow_float(o.via.f64); // exact: it was a float32 before decoding
    std::uint32_t bits;
    std::memcpy(&bits, &f, 4);
    char buf[5] = {char(0xca)};
    bits = __builtin_bswap32(bits);
    std::memcpy(buf + 1, &bits, 4);
    pk.pack_bin_body(buf, 5); // raw append: the type byte is in buf
    break;
  }
  case msgpack::type::FLOAT64: {
    std::uint64_t bits;
    std::memcpy(&bits, &o.via.f64, 8);
    char buf[9] = {char(0xcb)};
    bits = __builtin_bswap64(bits);
    std::memcpy(buf + 1, &bits, 8);
    pk.pack_bin_body(buf, 9);
    break;
  }
  case msgpack::type::ARRAY:
    pk.pack_array(o.via.array.size);
    for (std::uint32_t i = 0; i < o.via.array.size; ++i)
      pack_exact(pk, o.via.array.ptr[i]);
    break;
  case msgpack::type::MAP:
    pk.pack_map(o.via.map.size);
    for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
      pack_exact(pk, o.via.map.ptr[i].key);
      pack_exact(pk, o.via.map.ptr[i].val);
    }
    break;
  default:
    pk.pack(o);
  }
}

// Validates one value against a field of `types` (used for records inside
// library values, which the file-level validation cannot see). Throws Error.
void validate_value(const Image &img, const std::vector<Type> &types, const msgpack::object &v,
                    const Field &f);

// msgpack ext types for refs inside library values.
constexpr std::int8_t kExtRef = 1;       // payload: object id, little-endian, 1/2/4/8 bytes
constexpr std::int8_t kExtRefOffset = 2; // payload: u64 id, u64 byte offset
// msgpack ext type of a container node's id (codec.h put_node): u64, little-endian.
constexpr std::int8_t kExtNode = 3;
// Parses a node id. Returns false if v is not one.
bool parse_node(const msgpack::object &v, std::uint64_t &id);
// Parses a ref inside a library value. Returns false if v is not one.
bool parse_codec_ref(const msgpack::object &v, std::uint64_t &id, std::uint64_t &off);

// Arrays of 1-byte integers and of bytes are one msgpack bin.
inline bool packs_as_bin(const Field &f) {
  return f.count > 1 && (f.kind == CHECKSYNC_FIELD_BYTES ||
                         (f.elem_size == 1 && (f.kind == CHECKSYNC_FIELD_INT ||
                                               f.kind == CHECKSYNC_FIELD_UINT)));
}

} // namespace checksync::detail

#endif
