// codec_rt.cpp - what codec.h declares: encoding primitives for codecs, value
// accessors that validate while decoding, ref resolution, and decoding of
// field values (shared by restore and by records inside library values).
#include "format/codec_rt.h"

#include "format/format.h"
#include "format/image_writer.h"
#include "format/node_holders.h"

#include <cfloat>
#include <cmath>
#include <cstring>

namespace checksync::codec {
using detail::Error;

void put_nil(Writer &w) { w.pk.pack_nil(); }
void put_bool(Writer &w, bool v) { v ? w.pk.pack_true() : w.pk.pack_false(); }
void put_int(Writer &w, std::int64_t v) { w.pk.pack(v); }
void put_uint(Writer &w, std::uint64_t v) { w.pk.pack(v); }
void put_float(Writer &w, float v) {
  detail::Field f;
  f.kind = CHECKSYNC_FIELD_FLOAT;
  f.elem_size = 4;
  detail::pack_value(w, f, reinterpret_cast<const char *>(&v));
}
void put_double(Writer &w, double v) {
  detail::Field f;
  f.kind = CHECKSYNC_FIELD_FLOAT;
  f.elem_size = 8;
  detail::pack_value(w, f, reinterpret_cast<const char *>(&v));
}
void put_bytes(Writer &w, const void *p, std::size_t n) {
  w.pk.pack_bin(std::uint32_t(n));
  w.pk.pack_bin_body(static_cast<const char *>(p), std::uint32_t(n));
}
void put_str(Writer &w, const char *p, std::size_t n) {
  w.pk.pack_str(std::uint32_t(n));
  w.pk.pack_str_body(p, std::uint32_t(n));
}
void put_array(Writer &w, std::size_t n) { w.pk.pack_array(std::uint32_t(n)); }
void put_map(Writer &w, std::size_t n) { w.pk.pack_map(std::uint32_t(n)); }
void put_ref(Writer &w, const void *p) { detail::pack_codec_ref(w.pk, p); }
namespace {
thread_local std::uint64_t nodes_put = 0;
} // namespace
std::uint64_t nodes_encoded() { return nodes_put; }
void put_end_node(Writer &w, const void *end) {
  ++nodes_put; // once per container in node form
  put_node(w, end);
}
void put_node(Writer &w, const void *node) {
  if (!node) {
    w.pk.pack_nil();
    return;
  }
  auto id = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(node));
  char le[8];
  std::memcpy(le, &id, 8); // x86-64 and aarch64: little-endian already
  w.pk.pack_ext(8, detail::kExtNode);
  w.pk.pack_ext_body(le, 8);
}
void put_record(Writer &w, const void *obj, const char *key) {
  auto it = w.by_key.find(key);
  if (it == w.by_key.end())
    throw Error(std::string("a library value holds a record of type '") + key +
                "', which is not a registered persistent type");
  bool outer = w.in_library;
  w.in_library = true;
  detail::pack_record(w, w.types[it->second], static_cast<const char *>(obj));
  w.in_library = outer;
}

[[noreturn]] void fail(const char *why) {
  throw Error(std::string("corrupt checkpoint: library value: ") + why);
}

namespace {
const msgpack::object &obj(const Value &v) { return v.o; }
} // namespace

bool is_nil(const Value &v) { return obj(v).type == msgpack::type::NIL; }
bool is_map(const Value &v) { return obj(v).type == msgpack::type::MAP; }
bool get_bool(const Value &v) {
  if (obj(v).type != msgpack::type::BOOLEAN)
    fail("expected a boolean");
  return obj(v).via.boolean;
}
std::int64_t get_int(const Value &v) {
  const msgpack::object &o = obj(v);
  if (o.type == msgpack::type::NEGATIVE_INTEGER)
    return o.via.i64;
  if (o.type == msgpack::type::POSITIVE_INTEGER && o.via.u64 <= std::uint64_t(INT64_MAX))
    return std::int64_t(o.via.u64);
  fail("expected a signed integer");
}
std::uint64_t get_uint(const Value &v) {
  if (obj(v).type != msgpack::type::POSITIVE_INTEGER)
    fail("expected an unsigned integer");
  return obj(v).via.u64;
}
double get_double(const Value &v) {
  const msgpack::object &o = obj(v);
  if (o.type != msgpack::type::FLOAT32 && o.type != msgpack::type::FLOAT64)
    fail("expected a floating-point number");
  return o.via.f64;
}
float get_float(const Value &v) { return detail::narrow_float(get_double(v)); }
void get_bytes(const Value &v, void *dst, std::size_t n) {
  if (obj(v).type != msgpack::type::BIN || obj(v).via.bin.size != n)
    fail("expected bytes of the right length");
  std::memcpy(dst, obj(v).via.bin.ptr, n);
}
std::string_view get_str(const Value &v) {
  if (obj(v).type != msgpack::type::STR)
    fail("expected a string");
  return {obj(v).via.str.ptr, obj(v).via.str.size};
}
std::size_t get_array(const Value &v) {
  if (obj(v).type != msgpack::type::ARRAY)
    fail("expected an array");
  return obj(v).via.array.size;
}
const Value &at(const Value &v, std::size_t i) {
  if (i >= get_array(v))
    fail("array index out of range");
  return as_value(obj(v).via.array.ptr[i]);
}
std::size_t get_map(const Value &v) {
  if (obj(v).type != msgpack::type::MAP)
    fail("expected a map");
  return obj(v).via.map.size;
}
const Value &key_at(const Value &v, std::size_t i) {
  if (i >= get_map(v))
    fail("map index out of range");
  return as_value(obj(v).via.map.ptr[i].key);
}
const Value &value_at(const Value &v, std::size_t i) {
  if (i >= get_map(v))
    fail("map index out of range");
  return as_value(obj(v).via.map.ptr[i].val);
}

void *get_ref(const Value &v) {
  if (is_nil(v))
    return nullptr;
  std::uint64_t id, off;
  if (!detail::parse_codec_ref(obj(v), id, off))
    fail("expected a ref");
  if (!detail::current_restore)
    fail("ref decoded outside a restore");
  return detail::current_restore->address(id, off);
}

void get_record(const Value &v, void *dst, const char *key) {
  detail::RestoreContext *cx = detail::current_restore;
  if (!cx)
    fail("record decoded outside a restore");
  auto it = cx->by_key.find(key);
  if (it == cx->by_key.end())
    throw Error(std::string("a library value holds a record of type '") + key +
                "', which is not a persistent type of this program");
  const detail::Type &t = cx->types[it->second];
  detail::Field f;
  f.name = t.name;
  f.kind = CHECKSYNC_FIELD_RECORD;
  f.elem_size = std::uint32_t(t.size);
  f.target = it->second;
  // Validated against the checkpoint's version of the type (it may differ).
  std::int64_t ck = it->second < cx->ck_type.size() ? cx->ck_type[it->second] : -1;
  if (ck >= 0) {
    detail::Field fc = f;
    fc.elem_size = std::uint32_t(cx->img.types[size_t(ck)].size);
    fc.target = ck;
    detail::validate_value(cx->img, cx->img.types, v.o, fc);
  } else {
    detail::validate_value(cx->img, cx->types, v.o, f);
  }
  char *raw = static_cast<char *>(dst);
  detail::setup_raw(t, raw);
  detail::store_value(*cx, v.o, f, raw, /*constructed=*/false);
}

bool is_node(const Value &v) {
  std::uint64_t id;
  return detail::parse_node(obj(v), id);
}
std::uint64_t get_node(const Value &v) {
  std::uint64_t id = 0;
  if (!is_nil(v) && !detail::parse_node(obj(v), id))
    fail("expected a container node");
  return id;
}

namespace {
detail::RestoreContext &restoring(const char *what) {
  if (!detail::current_restore)
    fail(what);
  return *detail::current_restore;
}
} // namespace

void note_node(std::uint64_t id, void *node, const void *kind, void *(*after)(void *)) {
  detail::RestoreContext &cx = restoring("container node decoded outside a restore");
  if (!id || !cx.nodes.emplace(id, detail::RestoreContext::Node{node, after, kind}).second)
    fail("a container node id that is 0 or appears twice");
  ++cx.node_events;
}
void note_lost_node(std::uint64_t id) {
  detail::RestoreContext &cx = restoring("container node decoded outside a restore");
  if (!cx.nodes.emplace(id, detail::RestoreContext::Node{nullptr, nullptr, nullptr}).second)
    fail("a container node id that appears twice");
  ++cx.node_events;
}
void note_nested(const void *container, bool (*holds)(const void *), const std::uint64_t *ids,
                 std::size_t n) {
  detail::RestoreContext &cx = restoring("container node decoded outside a restore");
  cx.nested.push_back({container, holds, std::vector<std::uint64_t>(ids, ids + n)});
  ++nested_notes;
}
void handed_over(const void *tmp, std::size_t size) {
  detail::RestoreContext &cx = restoring("container node decoded outside a restore");
  auto lo = static_cast<const char *>(tmp), hi = lo + size;
  // Containers inside this temporary were noted last (inner ones first).
  while (!cx.nested.empty()) {
    detail::RestoreContext::Nested &n = cx.nested.back();
    auto at = static_cast<const char *>(n.container);
    if (at < lo || at >= hi)
      break;
    if (n.holds(n.container)) // copied: its nodes die with the temporary
      for (std::uint64_t id : n.ids) {
        cx.nodes[id] = detail::RestoreContext::Node{nullptr, nullptr, nullptr};
        ++cx.copied_nodes;
      }
    cx.nested.pop_back();
    --nested_notes;
  }
}
void noted_iterator() { ++restoring("iterator decoded outside a restore").node_events; }

std::shared_ptr<void> *shared_owner(const void *p) {
  if (!detail::current_restore)
    fail("shared_ptr decoded outside a restore");
  // Keyed by the object, not the pointer: a shared_ptr to a base subobject and
  // one to the whole object share one owner.
  std::uint64_t off;
  const void *key = p;
  if (detail::ObjHeader *h = detail::find_object(p, &off))
    key = h;
  return &detail::current_restore->owners[key];
}

} // namespace checksync::codec

namespace checksync::detail {

thread_local RestoreContext *current_restore = nullptr;

void *RestoreContext::address(std::uint64_t id, std::uint64_t off) const {
  std::int64_t i = img.find(id);
  if (i < 0)
    throw Error("corrupt checkpoint: ref to object #" + std::to_string(id) +
                ", which is not in the checkpoint");
  if (off > bytes[size_t(i)])
    throw Error("corrupt checkpoint: ref past the end of object #" + std::to_string(id));
  if (!addr[size_t(i)]) // validate_image found it unreachable: never silently null
    throw Error("corrupt checkpoint: ref to object #" + std::to_string(id) +
                ", which is not reachable from the roots");
  return addr[size_t(i)] + off;
}

void setup_raw(const Type &t, char *dst) {
  std::memset(dst, 0, t.size); // padding, trivially constructible transients
  for (const CodecSlot &s : t.init_slots)
    s.codec->construct(dst + s.offset);
  for (const Vptr &v : t.all_vptrs)
    std::memcpy(dst + v.offset, &v.value, sizeof v.value);
}

void value_init(const std::vector<Type> &types, const Field &f, char *dst) {
  if (f.flags & CHECKSYNC_FIELD_DEFAULT_CONSTANT) {
    if (f.kind == CHECKSYNC_FIELD_CODEC) { // a std::string (SchemaBuilder::defaultValue)
      msgpack::object chars;
      chars.type = msgpack::type::STR;
      chars.via.str.ptr = f.default_value.data();
      chars.via.str.size = std::uint32_t(f.default_value.size());
      f.codec->decode(codec::as_value(chars), dst);
      return;
    }
    if (f.default_value.size() == std::uint64_t(f.elem_size) * f.count &&
        f.kind != CHECKSYNC_FIELD_RECORD) {
      std::memcpy(dst, f.default_value.data(), f.default_value.size());
      return;
    }
  }
  for (std::uint64_t e = 0; e < f.count; ++e) {
    char *at = dst + e * f.elem_size;
    if (f.kind == CHECKSYNC_FIELD_CODEC) {
      f.codec->construct(at);
    } else if (f.kind == CHECKSYNC_FIELD_RECORD) {
      const Type &t = types[size_t(f.target)];
      setup_raw(t, at);
      for (const Field &g : t.fields)
        value_init(types, g, at + g.offset);
    }
  }
}

namespace {

// The smallest and largest value of an INT or UINT field.
std::pair<std::int64_t, std::uint64_t> int_range(const Field &f) {
  const unsigned n = f.elem_size * 8;
  if (f.kind == CHECKSYNC_FIELD_INT) {
    std::uint64_t hi = (std::uint64_t(1) << (n - 1)) - 1;
    return {-std::int64_t(hi) - 1, hi};
  }
  return {0, n == 64 ? ~std::uint64_t(0) : (std::uint64_t(1) << n) - 1};
}

// An integer value into an INT or UINT field. A value that does not fit
// (only a lossy resume across builds narrows: evolve.h) is clamped and
// counted; the low bytes of one that fits are the value (little-endian).
void store_int(RestoreContext &cx, const msgpack::object &v, const Field &f, char *dst) {
  const auto [lo, hi] = int_range(f);
  std::uint64_t bits;
  if (f.flags & CHECKSYNC_FIELD_BOOL) { // a lossy resume into a bool: value != 0
    bits = v.via.u64 != 0;
    if (v.via.u64 > 1)
      ++cx.clamped[f.name];
  } else if (v.type == msgpack::type::NEGATIVE_INTEGER) {
    bits = std::uint64_t(v.via.i64 < lo ? lo : v.via.i64);
    if (v.via.i64 < lo)
      ++cx.clamped[f.name];
  } else {
    bits = v.via.u64 > hi ? hi : v.via.u64;
    if (v.via.u64 > hi)
      ++cx.clamped[f.name];
  }
  std::memcpy(dst, &bits, f.elem_size);
}

// A floating-point value into an INT or UINT field (a lossy resume):
// truncated toward zero, clamped, NaN as 0; into a bool, value != 0.
void store_converted_int(RestoreContext &cx, double d, const Field &f, char *dst) {
  const unsigned n = f.elem_size * 8;
  const bool is_signed = f.kind == CHECKSYNC_FIELD_INT;
  std::uint64_t bits;
  if (f.flags & CHECKSYNC_FIELD_BOOL) {
    bits = d != 0;
    if (d != 0 && d != 1)
      ++cx.clamped[f.name];
    std::memcpy(dst, &bits, 1);
    return;
  }
  double t = d == d ? std::trunc(d) : 0;
  if (t != d)
    ++cx.clamped[f.name];
  // The range as doubles: [lo, end), end = hi + 1 (powers of two: exact).
  const auto [lo, hi] = int_range(f);
  const double end = std::ldexp(1.0, is_signed ? int(n) - 1 : int(n));
  if (t < double(lo) || t >= end) {
    if (t == d)
      ++cx.clamped[f.name];
    bits = t < double(lo) ? std::uint64_t(lo) : hi;
  } else {
    bits = is_signed ? std::uint64_t(std::int64_t(t)) : std::uint64_t(t);
  }
  std::memcpy(dst, &bits, f.elem_size);
}

void store_scalar(RestoreContext &cx, const msgpack::object &v, const Field &f, char *dst,
                  bool constructed) {
  switch (f.kind) {
  case CHECKSYNC_FIELD_INT:
  case CHECKSYNC_FIELD_UINT:
    if (v.type == msgpack::type::FLOAT32 || v.type == msgpack::type::FLOAT64)
      store_converted_int(cx, v.via.f64, f, dst); // a lossy resume across builds
    else
      store_int(cx, v, f, dst);
    break;
  case CHECKSYNC_FIELD_FLOAT: {
    // An integer here is a lossy resume across builds (evolve.h).
    bool from_int =
        v.type == msgpack::type::POSITIVE_INTEGER || v.type == msgpack::type::NEGATIVE_INTEGER;
    double d = !from_int                                   ? v.via.f64
               : v.type == msgpack::type::NEGATIVE_INTEGER ? double(v.via.i64)
                                                           : double(v.via.u64);
    bool exact = !from_int || (v.type == msgpack::type::NEGATIVE_INTEGER
                                   ? d < 0x1p63 && std::int64_t(d) == v.via.i64
                                   : d < 0x1p64 && std::uint64_t(d) == v.via.u64);
    if (f.elem_size == 4) {
      // Finite doubles beyond float's range clamp to its largest value.
      float x = std::isfinite(d) && std::fabs(d) > double(FLT_MAX)
                    ? std::copysign(FLT_MAX, float(d))
                    : narrow_float(d);
      exact &= x != x || double(x) == d;
      std::memcpy(dst, &x, 4);
    } else {
      std::memcpy(dst, &d, 8);
    }
    if (!exact)
      ++cx.clamped[f.name];
    break;
  }
  case CHECKSYNC_FIELD_BYTES:
    std::memcpy(dst, v.via.bin.ptr, f.elem_size);
    break;
  case CHECKSYNC_FIELD_REF: {
    void *p = nullptr;
    std::uint64_t id, off;
    if (v.type == msgpack::type::POSITIVE_INTEGER)
      p = cx.address(v.via.u64, 0);
    else if (v.type == msgpack::type::ARRAY)
      p = cx.address(v.via.array.ptr[0].via.u64, v.via.array.ptr[1].via.u64);
    else if (parse_codec_ref(v, id, off)) // a record inside a library value
      p = cx.address(id, off);
    std::memcpy(dst, &p, sizeof p);
    break;
  }
  case CHECKSYNC_FIELD_RECORD: {
    // The record's fields in the checkpoint's order; the program's may differ
    // (a resume across builds: added ones are value-initialised).
    const Type &t = cx.types[size_t(f.target)];
    const std::vector<std::int64_t> *src =
        size_t(f.target) < cx.field_src.size() ? &cx.field_src[size_t(f.target)] : nullptr;
    for (size_t i = 0; i < t.fields.size(); ++i) {
      std::int64_t j = src && !src->empty() ? (*src)[i] : std::int64_t(i);
      if (j < 0)
        value_init(cx.types, t.fields[i], dst + t.fields[i].offset);
      else
        store_value(cx, v.via.array.ptr[j], t.fields[i], dst + t.fields[i].offset, constructed);
    }
    break;
  }
  case CHECKSYNC_FIELD_CODEC:
    if (constructed)
      f.codec->destroy(dst);
    f.codec->decode(codec::as_value(v), dst);
    break;
  }
}

} // namespace

void store_value(RestoreContext &cx, const msgpack::object &v, const Field &f, char *dst,
                 bool constructed) {
  if (f.count == 1) {
    store_scalar(cx, v, f, dst, constructed);
  } else if (packs_as_bin(f)) {
    std::memcpy(dst, v.via.bin.ptr, f.elem_size * f.count);
  } else {
    for (std::uint64_t e = 0; e < f.count; ++e)
      store_scalar(cx, v.via.array.ptr[e], f, dst + e * f.elem_size, constructed);
  }
}

} // namespace checksync::detail
