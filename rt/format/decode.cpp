// decode.cpp - reads checkpoint files: envelope (magic, version, length,
// checksum), structure (parse_image), then values and refs (validate_image:
// every value against its field's kind; refs must resolve in the objects
// reachable from the roots), and base + deltas merged into one image.
#include "format/format.h"

#include "format/compression.h"

#include "format/codec_rt.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <functional>
#include <cstring>

namespace checksync::detail {
namespace {
std::uint32_t get_u32(const char *p) { std::uint32_t v; std::memcpy(&v, p, 4); return v; }
std::uint64_t get_u64(const char *p) { std::uint64_t v; std::memcpy(&v, p, 8); return v; }
} // namespace

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

bool parse_node(const msgpack::object &v, std::uint64_t &id) {
  if (v.type != msgpack::type::EXT || v.via.ext.type() != kExtNode || v.via.ext.size != 8)
    return false;
  std::memcpy(&id, v.via.ext.data(), 8);
  return true;
}

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

std::uint32_t check_envelope(std::string_view bytes, const std::string &what) {
  if (bytes.empty())
    throw Error(what + ": empty file (an interrupted write?)");
  if (std::memcmp(bytes.data(), kFileMagic, std::min<std::size_t>(8, bytes.size())) != 0)
    throw Error(what + ": not a CheckSync checkpoint (bad magic)");
  if (bytes.size() < kHeaderBytes + kTrailerBytes)
    throw Error(what + ": truncated checkpoint (" + std::to_string(bytes.size()) + " bytes)");
  std::uint32_t version = get_u32(bytes.data() + 8);
  if (version < kOldestFormatVersion || version > kCompressedVersion)
    throw Error(what + ": checkpoint format version " + std::to_string(version) +
                " is not supported (this runtime reads versions " +
                std::to_string(kOldestFormatVersion) + " to " +
                std::to_string(kCompressedVersion) + ")");
  std::uint32_t flags = get_u32(bytes.data() + 12);
  if (flags != (version == kCompressedVersion ? kFlagZstd : 0))
    throw Error(what + ": checkpoint flags " + std::to_string(flags) + " are not supported");
  const char *tail = bytes.data() + bytes.size() - kTrailerBytes;
  std::uint64_t body_len = get_u64(tail);
  if (body_len != bytes.size() - kHeaderBytes - kTrailerBytes)
    throw Error(what + ": truncated checkpoint (length " + std::to_string(bytes.size()) +
                " does not match its trailer)");
  if (XXH3_64bits(bytes.data(), kHeaderBytes + body_len) != get_u64(tail + 8))
    throw Error(what + ": corrupt checkpoint (checksum mismatch)");
  return version;
}

namespace {
// A compressed file's bytes as the plain file they hold: header + body.
std::string decompressed(const std::string &bytes, const std::string &what) {
  std::string_view frame(bytes.data() + kHeaderBytes, bytes.size() - kHeaderBytes - kTrailerBytes);
  std::string out(bytes.data(), kHeaderBytes);
  try {
    zstd_decompress_append(frame, out, what);
  } catch (const std::bad_alloc &) {
    throw Error(what + ": the compressed body is larger than this process can hold");
  }
  return out;
}
} // namespace

std::vector<Type> decode_schema(const msgpack::object &o, const std::string &what) {
  Reader rd{what};
  std::vector<Type> types;
  const msgpack::object *ts = rd.array(o, SIZE_MAX, "schema");
  for (std::uint32_t i = 0; i < o.via.array.size; ++i) {
    const msgpack::object *a = rd.array(ts[i], 5, "type schema");
    Type t;
    t.key = rd.str(a[0], "type key");
    t.name = rd.str(a[1], "type name");
    t.size = rd.u64(a[2], "type size");
    t.align = rd.u64(a[3], "type align");
    const msgpack::object *fs = rd.array(a[4], SIZE_MAX, "field list");
    for (std::uint32_t j = 0; j < a[4].via.array.size; ++j)
      t.fields.push_back(rd.field(fs[j]));
    types.push_back(std::move(t));
  }
  return types;
}

void for_each_ref(const Image &img, const msgpack::object &v, const Field &f,
                  const std::function<void(std::uint64_t)> &visit) {
  RefFinder rf{img.types};
  auto fn = [&](std::uint64_t id) { visit(id); };
  rf.value(v, f, fn);
}

void validate_values(const Image &img, const std::string &what) {
  Reader rd{what};
  ValueChecker vc{rd, img.types, img};
  vc.refs_must_resolve = false;
  for (auto &r : img.roots)
    vc.value(*r.value, r.root.field);
  for (const DecodedObject &o : img.objects) {
    const Type &t = img.types[o.type];
    for (std::uint64_t e = 0; e < o.count; ++e)
      for (size_t k = 0; k < t.fields.size(); ++k)
        vc.value(o.values[e * t.fields.size() + k], t.fields[k]);
  }
}

std::unique_ptr<Image> parse_image(std::string bytes, const std::string &what) {
  ExactFloats exact;
  Reader rd{what};
  std::uint32_t envelope = check_envelope(bytes, what);
  auto img = std::make_unique<Image>();
  img->file_bytes = bytes.size();
  std::uint64_t body_len = bytes.size() - kHeaderBytes - kTrailerBytes;
  if (envelope == kCompressedVersion) {
    img->compressed = true;
    bytes = decompressed(bytes, what);
    body_len = bytes.size() - kHeaderBytes;
  }
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

  img->version = body_version(envelope);
  const msgpack::object *top = rd.array(img->handle.get(), img->version >= 3 ? 12 : 11, "body");
  ImageInfo &info = img->info;
  info.epoch = rd.u64(top[0], "epoch");
  info.kind = rd.str(top[1], "kind");
  if (info.kind != "full" && info.kind != "delta")
    rd.fail("unknown checkpoint kind '" + info.kind + "'");
  info.created_ms = rd.u64(top[2], "timestamp");
  info.program = rd.str(top[3], "program");

  img->types = decode_schema(top[4], what);

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
