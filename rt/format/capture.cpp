// capture.cpp - see capture.h.
#include "format/capture.h"

#include "settings/options.h"

#include "format/image_writer.h"
#include "format/node_holders.h"
#include "heap/dirty.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace checksync::detail {
namespace {

// Packs a leaf from the live heap behind its length (a copy's layout).
struct CopyLeaf {
  OutBuffer &buf;
  HeapLeaf heap;
  void operator()(const Field &f, const char *src) {
    std::size_t at = buf.size();
    buf.write("\0\0\0\0", 4);
    heap(f, src);
    buf.patch_u32(at, std::uint32_t(buf.size() - at - 4));
  }
};

// Appends the leaves a copy packed, in order.
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


} // namespace

DeltaEncoding::DeltaEncoding(std::shared_ptr<const Snapshot> snap, const ImageInfo &info,
                             std::vector<ObjHeader *> objects, std::vector<std::uint64_t> freed)
    : snap_(std::move(snap)), info_(info), freed_(std::move(freed)),
      copies_(objects.size()),
      cow_(std::move(objects), [this](std::size_t i) { copy(i); }) {
  OutBuffer buf;
  Packer pk(buf);
  codec::Writer w{pk, snap_->types, snap_->by_key};
  for (const Root &r : snap_->roots) {
    pack_root_head(pk, r);
    pack_value(w, r.field, static_cast<const char *>(r.address));
  }
  roots_ = buf.take();
  cow_.publish();
}

// On a writing thread, before the object's first write.
void DeltaEncoding::copy(std::size_t i) {
  const ObjHeader *h = cow_.objects()[i];
  const Type &t = snap_->types[h->type];
  const char *base = static_cast<const char *>(const_cast<ObjHeader *>(h)->payload());
  std::size_t n = h->count * t.size;
  thread_local OutBuffer leaves; // reused: a copy is usually small
  leaves.clear();
  Packer pk(leaves);
  codec::Writer w{pk, snap_->types, snap_->by_key};
  CopyLeaf leaf{leaves, HeapLeaf{w}};
  const std::uint64_t nodes = codec::nodes_encoded();
  for (std::uint64_t e = 0; e < h->count; ++e)
    for (const Field &f : t.fields)
      walk_value<false>(nullptr, snap_->types, f, base + e * t.size + f.offset, leaf);
  Copy &c = copies_[i];
  c.nodes = codec::nodes_encoded() != nodes;
  c.data = std::make_unique_for_overwrite<char[]>(n + leaves.size());
  std::memcpy(c.data.get(), base, n);
  std::memcpy(c.data.get() + n, leaves.data(), leaves.size());
  c.payload = n;
}

void DeltaEncoding::copy_now(const std::vector<ObjHeader *> &objects) {
  const std::vector<ObjHeader *> &all = cow_.objects();
  for (ObjHeader *h : objects) {
    auto it = std::lower_bound(all.begin(), all.end(), h);
    if (it != all.end() && *it == h)
      cow_.copy_now(std::size_t(it - all.begin()));
  }
}

std::string DeltaEncoding::encode() {
  struct Retire { // whatever happens, writers stop waiting and kept blocks are freed
    CowDelta &cow;
    ~Retire() { cow.retire(); }
  } retire{cow_};
  const std::vector<Type> &types = snap_->types;
  const std::vector<ObjHeader *> &objects = cow_.objects();
  info_.stats.pages_touched = pages_touched(objects, types);
  std::uint64_t payload = info_.stats.payload_bytes;
  OutBuffer buf(std::max<std::size_t>(4096, payload + payload / 16 + roots_.size()));
  pack_header(buf, kFormatVersion);
  Packer pk(buf);
  codec::Writer w{pk, types, snap_->by_key};
  pack_info_head(pk, info_, kFormatVersion);
  pack_schema(pk, types);
  pk.pack_array(std::uint32_t(snap_->roots.size()));
  buf.write(roots_.data(), roots_.size());
  pk.pack_array(2);
  pk.pack(info_.live_objects);
  pk.pack(info_.live_bytes);
  pk.pack_array(std::uint32_t(objects.size()));
  // The file lists objects by id (written as deltas); the caller collected
  // them by address. Sorting (id, index) pairs here keeps it off the caller.
  std::vector<std::pair<std::uint64_t, std::size_t>> by_id;
  by_id.reserve(objects.size());
  for (std::size_t i = 0; i < objects.size(); ++i)
    by_id.emplace_back(objects[i]->id, i);
  std::sort(by_id.begin(), by_id.end());
  std::uint64_t prev = 0;
  HeapLeaf from_heap{w};
  // Tests (CHECKSYNC_TEST_ENCODE_DELAY_US): a slow encoder, so the program's
  // writes race with it.
  static const auto delay_us = unsigned(options::uint("CHECKSYNC_TEST_ENCODE_DELAY_US"));
  for (std::size_t k = 0; k < by_id.size(); ++k) {
    if (delay_us)
      ::usleep(delay_us);
    if (k + 8 < by_id.size()) // scattered objects: overlap the misses
      __builtin_prefetch(reinterpret_cast<const char *>(objects[by_id[k + 8].second]) + 64, 0, 1);
    std::size_t i = by_id[k].second;
    const ObjHeader *h = objects[i];
    const Type &t = types[h->type];
    pk.pack_array(std::uint32_t(3 + h->count * t.fields.size()));
    pk.pack(h->id - prev);
    prev = h->id;
    pk.pack(h->type);
    pk.pack(h->count);
    if (cow_.claim(i)) {
      struct Encoded { // also when a codec throws: a writer may be waiting
        CowDelta &cow;
        std::size_t i;
        ~Encoded() { cow.encoded(i); }
      } done{cow_, i};
      const char *base = static_cast<const char *>(const_cast<ObjHeader *>(h)->payload());
      const std::uint64_t nodes = codec::nodes_encoded();
      for (std::uint64_t e = 0; e < h->count; ++e)
        for (const Field &f : t.fields)
          walk_value<true>(&pk, types, f, base + e * t.size + f.offset, from_heap);
      note_node_holder(h, codec::nodes_encoded() != nodes);
    } else {
      const Copy &c = copies_[i];
      if (!c.data)
        throw Error("a library value's codec failed while copying object #" +
                    std::to_string(h->id) + " before a write");
      note_node_holder(h, c.nodes);
      SpliceLeaf leaf{buf, c.data.get() + c.payload};
      for (std::uint64_t e = 0; e < h->count; ++e)
        for (const Field &f : t.fields)
          walk_value<true>(&pk, types, f, c.data.get() + e * t.size + f.offset, leaf);
    }
  }
  pack_tail(pk, info_, freed_, kFormatVersion);
  return seal(buf);
}

} // namespace checksync::detail
