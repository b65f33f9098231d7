// capture.cpp - see capture.h.
#include "format/capture.h"

#include "format/image_writer.h"

#include <algorithm>
#include <cstring>

namespace checksync::detail {
namespace {

bool field_is_leafy(const Field &f, const std::vector<Type> &types, std::vector<char> &memo);

// memo: 0 unknown, 1 visiting or no leaves, 2 leaves.
bool type_is_leafy(std::uint32_t i, const std::vector<Type> &types, std::vector<char> &memo) {
  if (memo[i])
    return memo[i] == 2;
  memo[i] = 1; // records by value cannot nest themselves; guards bad input anyway
  for (const Field &f : types[i].fields)
    if (field_is_leafy(f, types, memo)) {
      memo[i] = 2;
      return true;
    }
  return false;
}

bool field_is_leafy(const Field &f, const std::vector<Type> &types, std::vector<char> &memo) {
  if (f.kind == CHECKSYNC_FIELD_REF || f.kind == CHECKSYNC_FIELD_CODEC)
    return true;
  return f.kind == CHECKSYNC_FIELD_RECORD && f.target >= 0 &&
         type_is_leafy(std::uint32_t(f.target), types, memo);
}

// Packs a leaf from the live heap, behind a length placeholder.
struct PackLeaf {
  OutBuffer &buf;
  HeapLeaf heap;
  void operator()(const Field &f, const char *src) {
    std::size_t at = buf.size();
    buf.write("\0\0\0\0", 4);
    heap(f, src);
    buf.patch_u32(at, std::uint32_t(buf.size() - at - 4));
  }
};

// Appends the leaf packed at capture time.
struct SpliceLeaf {
  OutBuffer &out;
  const char *at;
  void operator()(const Field &, const char *) {
    std::uint32_t n;
    std::memcpy(&n, at, 4);
    out.write(at + 4, n);
    at += 4 + n;
  }
};

std::uint64_t pages_touched(const Capture &c) {
  constexpr std::uint64_t kPage = std::uint64_t(1) << CHECKSYNC_PAGE_SHIFT;
  std::vector<std::uint64_t> pages;
  pages.reserve(c.objects.size());
  for (const CapturedObject &o : c.objects) {
    std::uint64_t end =
        o.address + sizeof(ObjHeader) + o.count * c.snap->types[o.type].size;
    for (std::uint64_t p = o.address / kPage; p <= (end - 1) / kPage; ++p)
      pages.push_back(p);
  }
  std::sort(pages.begin(), pages.end());
  return std::uint64_t(std::unique(pages.begin(), pages.end()) - pages.begin());
}

} // namespace

void capture_delta(Capture &c, std::shared_ptr<const Snapshot> snap, const ImageInfo &info,
                   const std::vector<ObjHeader *> &objects, std::vector<std::uint64_t> freed) {
  const std::vector<Type> &types = snap->types;
  if (c.leafy_for != snap.get()) {
    std::vector<char> memo(types.size(), 0);
    c.leafy.assign(types.size(), 0);
    c.prefetch.assign(types.size(), {});
    for (std::uint32_t i = 0; i < types.size(); ++i) {
      c.leafy[i] = type_is_leafy(i, types, memo);
      for (const Field &f : types[i].fields)
        if (f.kind == CHECKSYNC_FIELD_CODEC && f.count == 1 && f.codec && f.codec->prefetch)
          c.prefetch[i].push_back({f.offset, f.codec});
    }
    c.leafy_for = snap.get();
  }
  c.info = info;
  c.freed = std::move(freed);
  c.objects.clear();
  c.objects.reserve(objects.size());
  c.bytes.clear();
  c.packed.clear();
  c.roots.clear();

  Packer leaf_pk(c.packed);
  codec::Writer leaf_w{leaf_pk, types, snap->by_key};
  PackLeaf leaf{c.packed, HeapLeaf{leaf_w}};
  // Dirty objects are scattered over the heap, and a library value's storage
  // (a string's characters) can only be fetched once its object has arrived.
  // So objects go in batches small enough to stay in L2: first every
  // payload of the batch is requested, then every library value's storage,
  // then the batch is copied and packed; the misses of a batch overlap.
  constexpr std::size_t kBatch = 256;
  for (std::size_t b = 0; b < objects.size(); b += kBatch) {
    std::size_t e_end = std::min(objects.size(), b + kBatch);
    for (std::size_t i = b; i < e_end; ++i) {
      const ObjHeader *a = objects[i];
      const char *p = reinterpret_cast<const char *>(a);
      std::size_t n = sizeof(ObjHeader) +
                      std::min<std::uint64_t>(a->count * types[a->type].size, 256);
      for (std::size_t o = 0; o < n; o += 64)
        __builtin_prefetch(p + o, 0, 1);
    }
    for (std::size_t i = b; i < e_end; ++i) {
      const ObjHeader *a = objects[i];
      const char *p = static_cast<const char *>(const_cast<ObjHeader *>(a)->payload());
      for (const CodecSlot &s : c.prefetch[a->type])
        s.codec->prefetch(p + s.offset);
    }
    for (std::size_t i = b; i < e_end; ++i) {
      const ObjHeader *h = objects[i];
      const Type &t = types[h->type];
      const char *base = static_cast<const char *>(const_cast<ObjHeader *>(h)->payload());
      std::size_t n = h->count * t.size;
      c.objects.push_back({h->id, h->type, h->count, reinterpret_cast<std::uintptr_t>(h),
                           c.bytes.size(), c.packed.size()});
      c.bytes.insert(c.bytes.end(), base, base + n);
      if (!c.leafy[h->type])
        continue;
      for (std::uint64_t e = 0; e < h->count; ++e)
        for (const Field &f : t.fields)
          walk_value<false>(nullptr, types, f, base + e * t.size + f.offset, leaf);
    }
  }

  Packer roots_pk(c.roots);
  codec::Writer roots_w{roots_pk, types, snap->by_key};
  for (const Root &r : snap->roots) {
    pack_root_head(roots_pk, r);
    pack_value(roots_w, r.field, static_cast<const char *>(r.address));
  }
  c.snap = std::move(snap);
}

std::string encode_capture(Capture &c) {
  const std::vector<Type> &types = c.snap->types;
  ImageInfo &info = c.info;
  info.stats.pages_touched = pages_touched(c);
  OutBuffer buf(std::max<std::size_t>(4096, c.bytes.size() + c.packed.size() +
                                                c.roots.size() + c.bytes.size() / 8));
  pack_header(buf, kFormatVersion);
  Packer pk(buf);
  pack_info_head(pk, info, kFormatVersion);
  pack_schema(pk, types);
  pk.pack_array(std::uint32_t(c.snap->roots.size()));
  buf.write(c.roots.data(), c.roots.size());
  pk.pack_array(2);
  pk.pack(info.live_objects);
  pk.pack(info.live_bytes);
  pk.pack_array(std::uint32_t(c.objects.size()));
  std::uint64_t prev = 0;
  for (const CapturedObject &o : c.objects) {
    const Type &t = types[o.type];
    pk.pack_array(std::uint32_t(3 + o.count * t.fields.size()));
    pk.pack(o.id - prev);
    prev = o.id;
    pk.pack(o.type);
    pk.pack(o.count);
    const char *base = c.bytes.data() + o.bytes_at;
    SpliceLeaf leaf{buf, c.packed.data() + o.packed_at};
    for (std::uint64_t e = 0; e < o.count; ++e)
      for (const Field &f : t.fields)
        walk_value<true>(&pk, types, f, base + e * t.size + f.offset, leaf);
  }
  pack_tail(pk, info, c.freed, kFormatVersion);
  return seal(buf);
}

} // namespace checksync::detail
