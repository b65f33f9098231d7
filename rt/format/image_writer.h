// image_writer.h - what the two checkpoint writers share: encode_image packs
// objects straight from the heap (full checkpoints, on the caller's thread);
// encode_capture (capture.h) packs a delta from a capture on the pipeline
// thread. Both produce the same bytes for the same state. Internal to
// rt/format (the encoder and the codecs' Writer).
#ifndef CHECKSYNC_RT_IMAGE_WRITER_H
#define CHECKSYNC_RT_IMAGE_WRITER_H

#include "format/codec_rt.h"
#include "format/format.h"

#include <string>
#include <vector>

namespace checksync::detail {

// File framing (docs/format.md): header, the body's parts in order, trailer.
void pack_header(OutBuffer &buf, std::uint32_t version);
void pack_info_head(Packer &pk, const ImageInfo &info, std::uint32_t version);
void pack_schema(Packer &pk, const std::vector<Type> &types);
void pack_root_head(Packer &pk, const Root &r);
void pack_tail(Packer &pk, const ImageInfo &info, const std::vector<std::uint64_t> &freed,
               std::uint32_t version);
std::string seal(OutBuffer &buf); // the trailer; returns the file's bytes

// Writes a ref inside a library value (ext) or in a REF field (int / [id, off]).
void pack_codec_ref(Packer &pk, const void *p);
void pack_field_ref(Packer &pk, const void *p);
// One field value / one record (as the array of its fields); the codecs
// (codec_rt.cpp) call these for records nested in library values.
void pack_value(codec::Writer &w, const Field &f, const char *src);
void pack_record(codec::Writer &w, const Type &t, const char *src);

// A number or bytes scalar (not REF, RECORD or CODEC), bit-exact.
void pack_plain(Packer &pk, const Field &f, const char *src);

// Packs a REF or CODEC scalar from the live heap (walk_value's leaf).
struct HeapLeaf {
  codec::Writer &w;
  void operator()(const Field &f, const char *src);
};

// Walks one field value in the order pack_value packs it. With kPack, writes
// the framing (arrays, records) and plain scalars into *pk; either way calls
// leaf(f, src) for every REF and CODEC scalar, the parts that need the live
// heap (object ids, library values' contents).
template <bool kPack, class Leaf>
void walk_value(Packer *pk, const std::vector<Type> &types, const Field &f, const char *src,
                Leaf &leaf);

template <bool kPack, class Leaf>
void walk_scalar(Packer *pk, const std::vector<Type> &types, const Field &f, const char *src,
                 Leaf &leaf) {
  switch (f.kind) {
  case CHECKSYNC_FIELD_REF:
  case CHECKSYNC_FIELD_CODEC:
    leaf(f, src);
    return;
  case CHECKSYNC_FIELD_RECORD: {
    const Type &t = types[std::size_t(f.target)];
    if constexpr (kPack)
      pk->pack_array(std::uint32_t(t.fields.size()));
    for (const Field &g : t.fields)
      walk_value<kPack>(pk, types, g, src + g.offset, leaf);
    return;
  }
  default:
    if constexpr (kPack)
      pack_plain(*pk, f, src);
  }
}

template <bool kPack, class Leaf>
void walk_value(Packer *pk, const std::vector<Type> &types, const Field &f, const char *src,
                Leaf &leaf) {
  if (f.count == 1) {
    walk_scalar<kPack>(pk, types, f, src, leaf);
  } else if (packs_as_bin(f)) {
    if constexpr (kPack) {
      pk->pack_bin(std::uint32_t(f.elem_size * f.count));
      pk->pack_bin_body(src, std::uint32_t(f.elem_size * f.count));
    }
  } else {
    if constexpr (kPack)
      pk->pack_array(std::uint32_t(f.count));
    else if (f.kind != CHECKSYNC_FIELD_REF && f.kind != CHECKSYNC_FIELD_CODEC &&
             f.kind != CHECKSYNC_FIELD_RECORD)
      return; // plain elements: nothing to visit
    for (std::uint64_t e = 0; e < f.count; ++e)
      walk_scalar<kPack>(pk, types, f, src + e * f.elem_size, leaf);
  }
}

} // namespace checksync::detail

#endif
