// encode.cpp - writes checkpoint files (layout: docs/format.md, format.h):
// a fixed header, one msgpack body (schema, roots, objects with refs as object
// ids, freed ids, statistics, chain id) and a trailer with the body length
// and an XXH3-64 checksum. Values are bit-exact (floats never as integers).
#include "format/format.h"
#include "format/node_holders.h"

#include "format/codec_rt.h"
#include "format/image_writer.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <cstring>

namespace checksync::detail {
namespace {

void put_u32(char *p, std::uint32_t v) { std::memcpy(p, &v, 4); }
void put_u64(char *p, std::uint64_t v) { std::memcpy(p, &v, 8); }

void pack_field_schema(Packer &pk, const Field &f) {
  pk.pack_array(6);
  pk.pack(f.name);
  pk.pack(f.offset);
  pk.pack(f.kind);
  pk.pack(f.elem_size);
  pk.pack(f.count);
  if (f.target_key.empty())
    pk.pack_nil();
  else
    pk.pack(f.target_key);
}

// msgpack-c's pack_float/pack_double turn integral values into integers and
// lose -0.0; checkpoints must be bit-exact, so write float32/float64 directly.
void pack_raw_float(Packer &pk, const char *src, std::uint32_t size) {
  char buf[9];
  if (size == 4) {
    std::uint32_t bits;
    std::memcpy(&bits, src, 4);
    if ((bits & 0x7f800000u) == 0x7f800000u && (bits & 0x7fffff)) { // NaN: see format.h
      std::uint64_t wide = __builtin_bswap64(widen_float_bits(bits));
      buf[0] = char(0xcb);
      std::memcpy(buf + 1, &wide, 8);
      pk.pack_bin_body(buf, 9);
      return;
    }
    buf[0] = char(0xca);
    bits = __builtin_bswap32(bits);
    std::memcpy(buf + 1, &bits, 4);
  } else {
    std::uint64_t bits;
    std::memcpy(&bits, src, 8);
    buf[0] = char(0xcb);
    bits = __builtin_bswap64(bits);
    std::memcpy(buf + 1, &bits, 8);
  }
  pk.pack_bin_body(buf, size + 1); // raw append; the type byte is in buf
}

} // namespace

void pack_plain(Packer &pk, const Field &f, const char *src) {
  switch (f.kind) {
  case CHECKSYNC_FIELD_INT:
    switch (f.elem_size) {
    case 1: { std::int8_t x; std::memcpy(&x, src, 1); pk.pack(std::int64_t(x)); break; }
    case 2: { std::int16_t x; std::memcpy(&x, src, 2); pk.pack(std::int64_t(x)); break; }
    case 4: { std::int32_t x; std::memcpy(&x, src, 4); pk.pack(std::int64_t(x)); break; }
    default: { std::int64_t x; std::memcpy(&x, src, 8); pk.pack(x); break; }
    }
    break;
  case CHECKSYNC_FIELD_UINT: {
    std::uint64_t x = 0;
    std::memcpy(&x, src, f.elem_size);
    pk.pack(x);
    break;
  }
  case CHECKSYNC_FIELD_FLOAT:
    pack_raw_float(pk, src, f.elem_size);
    break;
  case CHECKSYNC_FIELD_BYTES:
    pk.pack_bin(f.elem_size);
    pk.pack_bin_body(src, f.elem_size);
    break;
  }
}

void pack_field_ref(Packer &pk, const void *p) {
  if (!p) {
    pk.pack_nil();
    return;
  }
  std::uint64_t off = 0;
  ObjHeader *h = find_object(p, &off, /*kept=*/true); // the marker checked every reachable ref
  if (!h) { // garbage pointing to a deleted object (close_delta_marking)
    pk.pack_nil();
    return;
  }
  if (off == 0) {
    pk.pack(h->id);
  } else {
    pk.pack_array(2);
    pk.pack(h->id);
    pk.pack(off);
  }
}

void pack_codec_ref(Packer &pk, const void *p) {
  if (!p) {
    pk.pack_nil();
    return;
  }
  std::uint64_t off = 0;
  ObjHeader *h = find_object(p, &off, /*kept=*/true);
  if (!h) { // as in pack_field_ref
    pk.pack_nil();
    return;
  }
  char buf[16];
  std::uint64_t id = h->id;
  if (off) {
    std::memcpy(buf, &id, 8);
    std::memcpy(buf + 8, &off, 8);
    pk.pack_ext(16, kExtRefOffset);
    pk.pack_ext_body(buf, 16);
    return;
  }
  std::uint32_t n = id < (1u << 8) ? 1 : id < (1u << 16) ? 2 : id < (1ull << 32) ? 4 : 8;
  std::memcpy(buf, &id, n);
  pk.pack_ext(n, kExtRef);
  pk.pack_ext_body(buf, n);
}

void HeapLeaf::operator()(const Field &f, const char *src) {
    if (f.kind == CHECKSYNC_FIELD_CODEC) {
      f.codec->encode(src, w);
      return;
    }
    void *p;
    std::memcpy(&p, src, sizeof p);
    if (w.in_library)
      pack_codec_ref(w.pk, p);
    else
      pack_field_ref(w.pk, p);
}

void pack_record(codec::Writer &w, const Type &t, const char *src) {
  w.pk.pack_array(std::uint32_t(t.fields.size()));
  for (const Field &g : t.fields)
    pack_value(w, g, src + g.offset);
}

void pack_value(codec::Writer &w, const Field &f, const char *src) {
  HeapLeaf leaf{w};
  walk_value<true>(&w.pk, w.types, f, src, leaf);
}

void pack_header(OutBuffer &buf, std::uint32_t version) {
  char head[kHeaderBytes];
  std::memcpy(head, kFileMagic, 8);
  put_u32(head + 8, version);
  put_u32(head + 12, 0);
  buf.write(head, sizeof head);
}

std::string seal(OutBuffer &buf) {
  std::uint64_t body_len = buf.size() - kHeaderBytes;
  std::uint64_t sum = XXH3_64bits(buf.data(), buf.size());
  char tail[kTrailerBytes];
  put_u64(tail, body_len);
  put_u64(tail + 8, sum);
  buf.write(tail, sizeof tail);
  return buf.take();
}

void pack_info_head(Packer &pk, const ImageInfo &info, std::uint32_t version) {
  pk.pack_array(version >= 3 ? 12 : 11);
  pk.pack(info.epoch);
  pk.pack(info.kind);
  pk.pack(info.created_ms);
  pk.pack(info.program);
}

void pack_schema(Packer &pk, const std::vector<Type> &types) {
  pk.pack_array(std::uint32_t(types.size()));
  for (const Type &t : types) {
    pk.pack_array(5);
    pk.pack(t.key);
    pk.pack(t.name);
    pk.pack(t.size);
    pk.pack(t.align);
    pk.pack_array(std::uint32_t(t.fields.size()));
    for (const Field &f : t.fields)
      pack_field_schema(pk, f);
  }
}

void pack_root_head(Packer &pk, const Root &r) {
  pk.pack_array(6);
  pk.pack(r.name);
  pk.pack(r.field.kind);
  pk.pack(r.field.elem_size);
  pk.pack(r.field.count);
  if (r.field.target_key.empty())
    pk.pack_nil();
  else
    pk.pack(r.field.target_key);
}

void pack_tail(Packer &pk, const ImageInfo &info, const std::vector<std::uint64_t> &freed,
               std::uint32_t version) {
  pk.pack_array(std::uint32_t(freed.size()));
  for (std::uint64_t id : freed)
    pk.pack(id);
  pk.pack(info.prev_epoch);
  pk.pack_array(5);
  pk.pack(info.stats.objects);
  pk.pack(info.stats.payload_bytes);
  pk.pack(info.stats.pause_us);
  pk.pack(info.stats.pages_touched);
  pk.pack(info.stats.dirty_pages);
  if (version >= 3)
    pk.pack(info.chain_id);
}

std::string encode_merged(const Image &img) {
  ExactFloats exact;
  OutBuffer buf(std::max<std::size_t>(4096, img.file_bytes));
  // Keeps the version of what it merges: a version 2 chain's refs in library
  // records are integers, which only a version 2 reader treats conservatively.
  std::uint32_t version = std::min(img.version, kFormatVersion);
  pack_header(buf, version);
  Packer pk(buf);
  pack_info_head(pk, img.info, version);
  pack_schema(pk, img.types);
  pk.pack_array(std::uint32_t(img.roots.size()));
  for (const DecodedRoot &r : img.roots) {
    pack_root_head(pk, r.root);
    pack_exact(pk, *r.value);
  }
  pk.pack_array(2);
  pk.pack(img.info.live_objects);
  pk.pack(img.info.live_bytes);
  pk.pack_array(std::uint32_t(img.objects.size()));
  std::uint64_t prev = 0;
  for (const DecodedObject &o : img.objects) {
    std::size_t nf = img.types[o.type].fields.size();
    pk.pack_array(std::uint32_t(3 + o.count * nf));
    pk.pack(o.id - prev);
    prev = o.id;
    pk.pack(o.type);
    pk.pack(o.count);
    for (std::size_t k = 0; k < o.count * nf; ++k)
      pack_exact(pk, o.values[k]);
  }
  pack_tail(pk, img.info, {}, version);
  return seal(buf);
}

std::string encode_image(const ImageInfo &info, const std::vector<Type> &types,
                         const std::vector<Root> &roots,
                         const std::vector<ObjHeader *> &objects,
                         const std::vector<std::uint64_t> &freed) {
  std::uint64_t payload = info.stats.payload_bytes; // set by the runtime
  if (!payload)
    for (const ObjHeader *h : objects)
      payload += h->count * types[h->type].size;
  OutBuffer buf(std::max<std::size_t>(4096, payload + payload / 16));
  pack_header(buf, kFormatVersion);
  Packer pk(buf);
  std::unordered_map<std::string, std::uint32_t> by_key;
  for (std::uint32_t i = 0; i < types.size(); ++i)
    by_key.emplace(types[i].key, i);
  codec::Writer w{pk, types, by_key};
  pack_info_head(pk, info, kFormatVersion);
  pack_schema(pk, types);
  pk.pack_array(std::uint32_t(roots.size()));
  for (const Root &r : roots) {
    pack_root_head(pk, r);
    pack_value(w, r.field, static_cast<const char *>(r.address));
  }

  pk.pack_array(2);
  pk.pack(info.live_objects);
  pk.pack(info.live_bytes);

  pk.pack_array(std::uint32_t(objects.size()));
  std::uint64_t prev = 0;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    // Objects of a delta are scattered: fetch headers 16 ahead, and payloads
    // 8 ahead (reading a header that has arrived), so the misses overlap.
    if (i + 16 < objects.size())
      __builtin_prefetch(objects[i + 16], 0, 1);
    if (i + 8 < objects.size()) {
      const ObjHeader *a = objects[i + 8];
      const char *p = reinterpret_cast<const char *>(a);
      std::size_t n = sizeof(ObjHeader) + std::min<std::uint64_t>(
                                              a->count * types[a->type].size, 256);
      for (std::size_t o = 64; o < n; o += 64)
        __builtin_prefetch(p + o, 0, 1);
    }
    const ObjHeader *h = objects[i];
    const Type &t = types[h->type];
    pk.pack_array(std::uint32_t(3 + h->count * t.fields.size()));
    pk.pack(h->id - prev);
    prev = h->id;
    pk.pack(h->type);
    pk.pack(h->count);
    const char *base = static_cast<const char *>(const_cast<ObjHeader *>(h)->payload());
    const std::uint64_t nodes = codec::nodes_encoded();
    for (std::uint64_t e = 0; e < h->count; ++e)
      for (const Field &f : t.fields)
        pack_value(w, f, base + e * t.size + f.offset);
    note_node_holder(h, codec::nodes_encoded() != nodes);
  }
  if (info.started == std::chrono::steady_clock::time_point{}) {
    pack_tail(pk, info, freed, kFormatVersion);
  } else {
    ImageInfo timed = info;
    timed.stats.pause_us = std::uint64_t(std::chrono::duration_cast<std::chrono::microseconds>(
                                             std::chrono::steady_clock::now() - info.started)
                                             .count());
    pack_tail(pk, timed, freed, kFormatVersion);
  }
  return seal(buf);
}

} // namespace checksync::detail
