// format.cpp - encoder and validating decoder for checkpoint files.
//
// Body (msgpack array of 8):
//   [0] epoch  [1] kind ("full")  [2] created_ms  [3] program
//   [4] schema: [[key, name, size, align, [[name, offset, kind, elem_size, count, target|nil]...]]...]
//   [5] roots:  [[name, kind, elem_size, count, target|nil, value]...]
//   [6] heap:   [live_objects, live_bytes]
//   [7] objects: [[id_delta, type, count, values...]...] sorted by id
// A value is an integer, a float, a bin, a ref (nil, an object id, or
// [id, byte offset] for a pointer inside an object), an array (records: one
// value per field; arrays: one value per element, bin for bytes), or a library
// value as its codec wrote it (refs inside it are msgpack ext, see codec_rt.h).
#include "format.h"

#include "codec_rt.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <cstring>

namespace checksync::detail {
namespace {

void put_u32(char *p, std::uint32_t v) { std::memcpy(p, &v, 4); }
void put_u64(char *p, std::uint64_t v) { std::memcpy(p, &v, 8); }
std::uint32_t get_u32(const char *p) { std::uint32_t v; std::memcpy(&v, p, 4); return v; }
std::uint64_t get_u64(const char *p) { std::uint64_t v; std::memcpy(&v, p, 8); return v; }

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

void pack_scalar(codec::Writer &w, const Field &f, const char *src) {
  Packer &pk = w.pk;
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
  case CHECKSYNC_FIELD_REF: {
    void *p;
    std::memcpy(&p, src, sizeof p);
    if (w.in_library)
      pack_codec_ref(pk, p);
    else
      pack_field_ref(pk, p);
    break;
  }
  case CHECKSYNC_FIELD_RECORD:
    pack_record(w, w.types[size_t(f.target)], src);
    break;
  case CHECKSYNC_FIELD_CODEC:
    f.codec->encode(src, w);
    break;
  }
}

} // namespace

void pack_field_ref(Packer &pk, const void *p) {
  if (!p) {
    pk.pack_nil();
    return;
  }
  std::uint64_t off = 0;
  ObjHeader *h = find_object(p, &off); // the marker checked every reachable ref
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
  ObjHeader *h = find_object(p, &off);
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

bool parse_codec_ref(const msgpack::object &v, std::uint64_t &id, std::uint64_t &off) {
  if (v.type != msgpack::type::EXT)
    return false;
  const char *d = v.via.ext.data();
  std::uint32_t n = v.via.ext.size;
  id = off = 0;
  if (v.via.ext.type() == kExtRef && (n == 1 || n == 2 || n == 4 || n == 8)) {
    std::memcpy(&id, d, n);
    return true;
  }
  if (v.via.ext.type() == kExtRefOffset && n == 16) {
    std::memcpy(&id, d, 8);
    std::memcpy(&off, d + 8, 8);
    return true;
  }
  return false;
}

void pack_record(codec::Writer &w, const Type &t, const char *src) {
  w.pk.pack_array(std::uint32_t(t.fields.size()));
  for (const Field &g : t.fields)
    pack_value(w, g, src + g.offset);
}

void pack_value(codec::Writer &w, const Field &f, const char *src) {
  if (f.count == 1) {
    pack_scalar(w, f, src);
  } else if (packs_as_bin(f)) {
    w.pk.pack_bin(std::uint32_t(f.elem_size * f.count));
    w.pk.pack_bin_body(src, std::uint32_t(f.elem_size * f.count));
  } else {
    w.pk.pack_array(std::uint32_t(f.count));
    for (std::uint64_t e = 0; e < f.count; ++e)
      pack_scalar(w, f, src + e * f.elem_size);
  }
}

namespace {
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
} // namespace

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
    for (std::uint64_t e = 0; e < h->count; ++e)
      for (const Field &f : t.fields)
        pack_value(w, f, base + e * t.size + f.offset);
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

// ---- decoding -------------------------------------------------------------

namespace {

struct Reader {
  const std::string &what;
  [[noreturn]] void fail(const std::string &why) const {
    throw Error(what + ": corrupt checkpoint: " + why);
  }
  const msgpack::object *array(const msgpack::object &o, std::size_t n, const char *ctx) const {
    if (o.type != msgpack::type::ARRAY || (n != SIZE_MAX && o.via.array.size != n))
      fail(std::string("malformed ") + ctx);
    return o.via.array.ptr;
  }
  std::uint64_t u64(const msgpack::object &o, const char *ctx) const {
    if (o.type != msgpack::type::POSITIVE_INTEGER)
      fail(std::string("malformed ") + ctx);
    return o.via.u64;
  }
  std::string str(const msgpack::object &o, const char *ctx) const {
    if (o.type != msgpack::type::STR)
      fail(std::string("malformed ") + ctx);
    return std::string(o.via.str.ptr, o.via.str.size);
  }
  std::string opt_str(const msgpack::object &o, const char *ctx) const {
    return o.type == msgpack::type::NIL ? std::string() : str(o, ctx);
  }
  Field field(const msgpack::object &o) const {
    const msgpack::object *a = array(o, 6, "field schema");
    Field f;
    f.name = str(a[0], "field name");
    f.offset = u64(a[1], "field offset");
    f.kind = std::uint32_t(u64(a[2], "field kind"));
    f.elem_size = std::uint32_t(u64(a[3], "field size"));
    f.count = u64(a[4], "field count");
    f.target_key = opt_str(a[5], "field target");
    return f;
  }
};

struct ValueChecker {
  const Reader &rd;
  const std::vector<Type> &types;
  const Image &img;

  bool refs_must_resolve = true; // false inside garbage (see Image::reachable)

  void check_ref(const Field &f, std::uint64_t id, std::uint64_t off) const {
    if (!refs_must_resolve)
      return;
    std::int64_t i = img.find(id);
    if (i < 0)
      rd.fail("field '" + f.name + "' refers to object #" + std::to_string(id) +
              ", which is not in the checkpoint");
    if (off > img.object_bytes(std::size_t(i)))
      rd.fail("field '" + f.name + "' points past the end of object #" + std::to_string(id));
  }

  void scalar(const msgpack::object &v, const Field &f, int depth) const {
    auto bad = [&] { rd.fail("value of field '" + f.name + "' does not match its kind"); };
    switch (f.kind) {
    case CHECKSYNC_FIELD_INT:
      if (v.type == msgpack::type::POSITIVE_INTEGER) {
        if (f.elem_size < 8 && v.via.u64 >= (std::uint64_t(1) << (f.elem_size * 8 - 1)))
          bad();
      } else if (v.type == msgpack::type::NEGATIVE_INTEGER) {
        if (f.elem_size < 8 && v.via.i64 < -(std::int64_t(1) << (f.elem_size * 8 - 1)))
          bad();
      } else {
        bad();
      }
      break;
    case CHECKSYNC_FIELD_UINT:
      if (v.type != msgpack::type::POSITIVE_INTEGER ||
          (f.elem_size < 8 && v.via.u64 >> (f.elem_size * 8)))
        bad();
      break;
    case CHECKSYNC_FIELD_FLOAT:
      if (v.type != msgpack::type::FLOAT32 && v.type != msgpack::type::FLOAT64)
        bad();
      break;
    case CHECKSYNC_FIELD_BYTES:
      if (v.type != msgpack::type::BIN || v.via.bin.size != f.elem_size)
        bad();
      break;
    case CHECKSYNC_FIELD_REF: {
      if (v.type == msgpack::type::NIL)
        break;
      std::uint64_t id = 0, off = 0;
      if (v.type == msgpack::type::POSITIVE_INTEGER) {
        id = v.via.u64;
      } else if (v.type == msgpack::type::ARRAY && v.via.array.size == 2 &&
                 v.via.array.ptr[0].type == msgpack::type::POSITIVE_INTEGER &&
                 v.via.array.ptr[1].type == msgpack::type::POSITIVE_INTEGER) {
        id = v.via.array.ptr[0].via.u64;
        off = v.via.array.ptr[1].via.u64;
      } else if (parse_codec_ref(v, id, off)) { // a record inside a library value
      } else {
        bad();
      }
      check_ref(f, id, off);
      break;
    }
    case CHECKSYNC_FIELD_CODEC:
      break; // its codec validates it while decoding
    case CHECKSYNC_FIELD_RECORD: {
      if (depth > 64)
        rd.fail("records nested too deeply");
      const Type &t = types[size_t(f.target)];
      if (v.type != msgpack::type::ARRAY || v.via.array.size != t.fields.size())
        bad();
      for (size_t i = 0; i < t.fields.size(); ++i)
        value(v.via.array.ptr[i], t.fields[i], depth + 1);
      break;
    }
    }
  }

  void value(const msgpack::object &v, const Field &f, int depth = 0) const {
    if (f.count == 1)
      return scalar(v, f, depth);
    if (packs_as_bin(f)) {
      if (v.type != msgpack::type::BIN || v.via.bin.size != f.elem_size * f.count)
        rd.fail("value of field '" + f.name + "' has the wrong length");
      return;
    }
    if (v.type != msgpack::type::ARRAY || v.via.array.size != f.count)
      rd.fail("value of field '" + f.name + "' has the wrong length");
    for (std::uint64_t e = 0; e < f.count; ++e)
      scalar(v.via.array.ptr[e], f, depth);
  }
};

// Calls visit(id) for every object id a value refers to. Tolerant of
// malformed values: ValueChecker reports those.
struct RefFinder {
  const std::vector<Type> &types;
  template <class Visit> void any(const msgpack::object &v, Visit &visit, int depth) const {
    if (depth > 128)
      return;
    std::uint64_t id, off;
    if (parse_codec_ref(v, id, off)) {
      visit(id);
    } else if (v.type == msgpack::type::ARRAY) {
      for (std::uint32_t i = 0; i < v.via.array.size; ++i)
        any(v.via.array.ptr[i], visit, depth + 1);
    } else if (v.type == msgpack::type::MAP) {
      for (std::uint32_t i = 0; i < v.via.map.size; ++i) {
        any(v.via.map.ptr[i].key, visit, depth + 1);
        any(v.via.map.ptr[i].val, visit, depth + 1);
      }
    }
  }
  template <class Visit>
  void scalar(const msgpack::object &v, const Field &f, Visit &visit, int depth) const {
    switch (f.kind) {
    case CHECKSYNC_FIELD_REF:
      if (v.type == msgpack::type::POSITIVE_INTEGER)
        visit(v.via.u64);
      else if (v.type == msgpack::type::ARRAY && v.via.array.size == 2 &&
               v.via.array.ptr[0].type == msgpack::type::POSITIVE_INTEGER)
        visit(v.via.array.ptr[0].via.u64);
      break;
    case CHECKSYNC_FIELD_CODEC:
      any(v, visit, depth);
      break;
    case CHECKSYNC_FIELD_RECORD: {
      const Type &t = types[size_t(f.target)];
      if (depth > 64 || v.type != msgpack::type::ARRAY || v.via.array.size != t.fields.size())
        break;
      for (size_t i = 0; i < t.fields.size(); ++i)
        value(v.via.array.ptr[i], t.fields[i], visit, depth + 1);
      break;
    }
    default:
      break;
    }
  }
  template <class Visit>
  void value(const msgpack::object &v, const Field &f, Visit &visit, int depth = 0) const {
    if (f.kind != CHECKSYNC_FIELD_REF && f.kind != CHECKSYNC_FIELD_CODEC &&
        f.kind != CHECKSYNC_FIELD_RECORD)
      return;
    if (f.count == 1)
      return scalar(v, f, visit, depth);
    if (v.type != msgpack::type::ARRAY)
      return;
    for (std::uint32_t e = 0; e < v.via.array.size; ++e)
      scalar(v.via.array.ptr[e], f, visit, depth);
  }
};

// Image::reachable: marks from the roots over the decoded values.
void mark_reachable(Image &img) {
  if (img.version < 3) { // refs in library records were integers: keep everything
    img.reachable.assign(img.objects.size(), 1);
    return;
  }
  img.reachable.assign(img.objects.size(), 0);
  RefFinder rf{img.types};
  std::vector<std::size_t> stack;
  auto visit = [&](std::uint64_t id) {
    std::int64_t i = img.find(id);
    if (i >= 0 && !img.reachable[std::size_t(i)]) {
      img.reachable[std::size_t(i)] = 1;
      stack.push_back(std::size_t(i));
    }
  };
  for (auto &r : img.roots)
    rf.value(*r.value, r.root.field, visit);
  while (!stack.empty()) {
    const DecodedObject &o = img.objects[stack.back()];
    stack.pop_back();
    const Type &t = img.types[o.type];
    for (std::uint64_t e = 0; e < o.count; ++e)
      for (size_t k = 0; k < t.fields.size(); ++k)
        rf.value(o.values[e * t.fields.size() + k], t.fields[k], visit);
  }
}

} // namespace

void validate_image(Image &img, const std::string &what) {
  img.dense.clear();
  if (!img.objects.empty() && img.objects.size() < (std::size_t(1) << 31)) {
    std::uint64_t lo = img.objects.front().id, span = img.objects.back().id - lo + 1;
    if (span <= 4 * img.objects.size() + 1024) {
      img.dense.assign(span, -1);
      img.dense_base = lo;
      for (std::size_t i = 0; i < img.objects.size(); ++i)
        img.dense[img.objects[i].id - lo] = std::int32_t(i);
    }
  }
  mark_reachable(img);
  Reader rd{what};
  ValueChecker vc{rd, img.types, img};
  for (auto &r : img.roots)
    vc.value(*r.value, r.root.field);
  for (std::size_t i = 0; i < img.objects.size(); ++i) {
    const DecodedObject &o = img.objects[i];
    vc.refs_must_resolve = img.reachable[i];
    const Type &t = img.types[o.type];
    for (std::uint64_t e = 0; e < o.count; ++e)
      for (size_t k = 0; k < t.fields.size(); ++k)
        vc.value(o.values[e * t.fields.size() + k], t.fields[k]);
  }
}

std::unique_ptr<Image> merge_chain(std::vector<std::unique_ptr<Image>> parts,
                                   const std::string &what) {
  if (parts.empty())
    throw Error(what + ": no checkpoint");
  if (parts.front()->info.kind != "full")
    throw Error(what + ": the chain does not start with a full checkpoint");
  if (parts.size() == 1) {
    validate_image(*parts.front(), what);
    return std::move(parts.front());
  }
  auto out = std::make_unique<Image>();
  const Image &last = *parts.back();
  out->info = last.info;
  out->info.kind = "full";
  out->info.prev_epoch = 0;
  out->types = last.types;
  out->roots = last.roots;
  std::unordered_map<std::string, std::uint32_t> by_key;
  for (std::uint32_t i = 0; i < out->types.size(); ++i)
    by_key.emplace(out->types[i].key, i);
  std::unordered_map<std::uint64_t, DecodedObject> objects;
  std::uint64_t file_bytes = 0;
  for (size_t p = 0; p < parts.size(); ++p) {
    const Image &part = *parts[p];
    if (p && part.info.chain_id != parts[0]->info.chain_id)
      throw Error(what + ": broken chain: epoch " + std::to_string(part.info.epoch) +
                  " belongs to another chain than its base (epoch " +
                  std::to_string(parts[0]->info.epoch) + ")");
    out->version = std::min(out->version, part.version);
    if (p && part.info.prev_epoch != parts[p - 1]->info.epoch)
      throw Error(what + ": broken chain: epoch " + std::to_string(part.info.epoch) +
                  " applies to " + std::to_string(part.info.prev_epoch) + ", not " +
                  std::to_string(parts[p - 1]->info.epoch));
    std::vector<std::uint32_t> map(part.types.size());
    for (size_t i = 0; i < part.types.size(); ++i) {
      auto it = by_key.find(part.types[i].key);
      if (it == by_key.end() || part.types[i].fields.size() != out->types[it->second].fields.size() ||
          part.types[i].size != out->types[it->second].size)
        throw Error(what + ": the chain mixes schemas (type " + part.types[i].name + ")");
      map[i] = it->second;
    }
    for (const DecodedObject &o : part.objects)
      objects[o.id] = {o.id, map[o.type], o.count, o.values};
    for (std::uint64_t id : part.freed)
      objects.erase(id);
    file_bytes += part.file_bytes;
  }
  out->objects.reserve(objects.size());
  for (auto &[id, o] : objects)
    out->objects.push_back(o);
  std::sort(out->objects.begin(), out->objects.end(),
            [](const DecodedObject &a, const DecodedObject &b) { return a.id < b.id; });
  out->file_bytes = file_bytes;
  out->parts = std::move(parts);
  validate_image(*out, what);
  return out;
}

void validate_value(const Image &img, const std::vector<Type> &types, const msgpack::object &v,
                    const Field &f) {
  Reader rd{"checkpoint"};
  ValueChecker{rd, types, img}.value(v, f);
}

std::uint64_t Image::object_bytes(std::size_t index) const {
  return objects[index].count * types[objects[index].type].size;
}

std::int64_t Image::find(std::uint64_t id) const {
  if (!dense.empty()) {
    std::uint64_t i = id - dense_base;
    return id >= dense_base && i < dense.size() ? dense[i] : -1;
  }
  auto it = std::lower_bound(objects.begin(), objects.end(), id,
                             [](const DecodedObject &o, std::uint64_t v) { return o.id < v; });
  return it != objects.end() && it->id == id ? it - objects.begin() : -1;
}

void check_envelope(std::string_view bytes, const std::string &what) {
  if (bytes.empty())
    throw Error(what + ": empty file (an interrupted write?)");
  if (std::memcmp(bytes.data(), kFileMagic, std::min<std::size_t>(8, bytes.size())) != 0)
    throw Error(what + ": not a CheckSync checkpoint (bad magic)");
  if (bytes.size() < kHeaderBytes + kTrailerBytes)
    throw Error(what + ": truncated checkpoint (" + std::to_string(bytes.size()) + " bytes)");
  std::uint32_t version = get_u32(bytes.data() + 8);
  if (version < kOldestFormatVersion || version > kFormatVersion)
    throw Error(what + ": checkpoint format version " + std::to_string(version) +
                " is not supported (this runtime reads versions " +
                std::to_string(kOldestFormatVersion) + " to " + std::to_string(kFormatVersion) +
                ")");
  const char *tail = bytes.data() + bytes.size() - kTrailerBytes;
  std::uint64_t body_len = get_u64(tail);
  if (body_len != bytes.size() - kHeaderBytes - kTrailerBytes)
    throw Error(what + ": truncated checkpoint (length " + std::to_string(bytes.size()) +
                " does not match its trailer)");
  if (XXH3_64bits(bytes.data(), kHeaderBytes + body_len) != get_u64(tail + 8))
    throw Error(what + ": corrupt checkpoint (checksum mismatch)");
}

std::unique_ptr<Image> parse_image(std::string bytes, const std::string &what) {
  ExactFloats exact;
  Reader rd{what};
  check_envelope(bytes, what);
  auto img = std::make_unique<Image>();
  img->file_bytes = bytes.size();
  std::uint64_t body_len = bytes.size() - kHeaderBytes - kTrailerBytes;
  img->bytes = std::move(bytes);
  const char *body = img->bytes.data() + kHeaderBytes;
  std::size_t off = 0;
  // Limits: no container may claim more elements than there are bytes.
  std::size_t lim = std::size_t(body_len);
  try {
    img->handle = msgpack::unpack(body, std::size_t(body_len), off,
                                  [](msgpack::type::object_type, std::size_t, void *) { return true; },
                                  nullptr, msgpack::unpack_limit(lim, lim, lim, lim, lim, 128));
  } catch (const std::exception &e) {
    rd.fail(std::string("undecodable body (") + e.what() + ")");
  }
  if (off != body_len)
    rd.fail("trailing bytes after the body");

  img->version = get_u32(img->bytes.data() + 8);
  const msgpack::object *top = rd.array(img->handle.get(), img->version >= 3 ? 12 : 11, "body");
  ImageInfo &info = img->info;
  info.epoch = rd.u64(top[0], "epoch");
  info.kind = rd.str(top[1], "kind");
  if (info.kind != "full" && info.kind != "delta")
    rd.fail("unknown checkpoint kind '" + info.kind + "'");
  info.created_ms = rd.u64(top[2], "timestamp");
  info.program = rd.str(top[3], "program");

  const msgpack::object *ts = rd.array(top[4], SIZE_MAX, "schema");
  for (std::uint32_t i = 0; i < top[4].via.array.size; ++i) {
    const msgpack::object *a = rd.array(ts[i], 5, "type schema");
    Type t;
    t.key = rd.str(a[0], "type key");
    t.name = rd.str(a[1], "type name");
    t.size = rd.u64(a[2], "type size");
    t.align = rd.u64(a[3], "type align");
    const msgpack::object *fs = rd.array(a[4], SIZE_MAX, "field list");
    for (std::uint32_t j = 0; j < a[4].via.array.size; ++j)
      t.fields.push_back(rd.field(fs[j]));
    img->types.push_back(std::move(t));
  }

  const msgpack::object *rs = rd.array(top[5], SIZE_MAX, "roots");
  for (std::uint32_t i = 0; i < top[5].via.array.size; ++i) {
    const msgpack::object *a = rd.array(rs[i], 6, "root");
    DecodedRoot r;
    r.root.name = rd.str(a[0], "root name");
    r.root.field.name = r.root.name;
    r.root.field.kind = std::uint32_t(rd.u64(a[1], "root kind"));
    r.root.field.elem_size = std::uint32_t(rd.u64(a[2], "root size"));
    r.root.field.count = rd.u64(a[3], "root count");
    r.root.field.target_key = rd.opt_str(a[4], "root target");
    r.value = &a[5];
    img->roots.push_back(std::move(r));
  }
  std::vector<Root> tmp_roots;
  for (auto &r : img->roots)
    tmp_roots.push_back(r.root);
  try {
    resolve_targets(img->types, &tmp_roots);
  } catch (const Error &e) {
    rd.fail(std::string("inconsistent schema: ") + e.what());
  }
  for (size_t i = 0; i < tmp_roots.size(); ++i)
    img->roots[i].root = std::move(tmp_roots[i]);

  const msgpack::object *hs = rd.array(top[6], 2, "heap statistics");
  info.live_objects = rd.u64(hs[0], "live objects");
  info.live_bytes = rd.u64(hs[1], "live bytes");

  const msgpack::object *os = rd.array(top[7], SIZE_MAX, "object list");
  std::uint32_t n = top[7].via.array.size;
  img->objects.reserve(n);
  std::uint64_t id = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    const msgpack::object *a = rd.array(os[i], SIZE_MAX, "object");
    std::uint32_t len = os[i].via.array.size;
    if (len < 3)
      rd.fail("malformed object");
    std::uint64_t delta = rd.u64(a[0], "object id");
    if (delta == 0 || id + delta < id)
      rd.fail("object ids out of order");
    id += delta;
    std::uint64_t type = rd.u64(a[1], "object type");
    if (type >= img->types.size())
      rd.fail("object #" + std::to_string(id) + " has an unknown type");
    std::uint64_t count = rd.u64(a[2], "object count");
    std::uint64_t nf = img->types[type].fields.size();
    std::uint64_t size = img->types[type].size ? img->types[type].size : 1;
    if (count == 0 || count > (std::uint64_t(1) << 44) / size || (nf && count > len) ||
        (len - 3) != count * nf)
      rd.fail("object #" + std::to_string(id) + " has the wrong number of values");
    img->objects.push_back({id, std::uint32_t(type), count, a + 3});
  }

  const msgpack::object *fr = rd.array(top[8], SIZE_MAX, "freed ids");
  for (std::uint32_t i = 0; i < top[8].via.array.size; ++i)
    img->freed.push_back(rd.u64(fr[i], "freed id"));
  info.prev_epoch = rd.u64(top[9], "previous epoch");
  if ((info.kind == "delta") != (info.prev_epoch != 0) || info.prev_epoch >= info.epoch)
    rd.fail("inconsistent previous epoch");
  if (img->version >= 3)
    info.chain_id = rd.u64(top[11], "chain id");
  const msgpack::object *st = rd.array(top[10], 5, "statistics");
  info.stats = {rd.u64(st[0], "stats"), rd.u64(st[1], "stats"), rd.u64(st[2], "stats"),
                rd.u64(st[3], "stats"), rd.u64(st[4], "stats")};
  return img;
}

} // namespace checksync::detail
