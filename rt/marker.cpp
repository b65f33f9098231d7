// marker.cpp - depth-first marking with an explicit stack over ref_offsets.
#include "marker.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace checksync::detail {

std::string field_path(const std::vector<Type> &types, std::int64_t type,
                       std::uint64_t offset) {
  if (type < 0)
    return "";
  const Type &t = types[size_t(type)];
  if (t.size)
    offset %= t.size; // element of an array object
  for (auto &f : t.fields) {
    std::uint64_t end = f.offset + f.elem_size * f.count;
    if (offset < f.offset || offset >= end)
      continue;
    std::string s = f.name;
    std::uint64_t rel = offset - f.offset;
    if (f.count > 1)
      s += "[" + std::to_string(rel / f.elem_size) + "]";
    if (f.kind == CHECKSYNC_FIELD_RECORD)
      s += "." + field_path(types, f.target, rel % f.elem_size);
    return s;
  }
  return "+" + std::to_string(offset);
}

namespace {

struct Marker {
  const std::vector<Type> &types;
  std::uint32_t mark;
  MarkResult result;
  std::vector<ObjHeader *> stack;

  static std::string hex(const void *p) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%p", p);
    return buf;
  }

  // `where` is only built on error.
  template <class Where>
  void visit(void *p, std::int64_t target, Where where) {
    if (!p)
      return;
    ObjHeader *h = header_of(p);
    if (!h) {
      throw Error(where() + " = " + hex(p) +
                  (in_heap(p) ? " points into the middle of a persistent object or to a "
                                "freed one (only pointers to whole objects made with new "
                                "can be checkpointed)"
                              : " does not point to a persistent object made with new "
                                "(globals, locals and placement-new objects cannot be "
                                "referenced from persistent state)"));
    }
    if (std::int64_t(h->type) >= std::int64_t(types.size()) ||
        (target >= 0 && types[h->type].key != types[size_t(target)].key))
      throw Error(where() + " should point to a " + types[size_t(target)].name +
                  " but points to a " +
                  (h->type < types.size() ? types[h->type].name : std::string("?")));
    if (h->mark == mark)
      return;
    h->mark = mark;
    result.objects.push_back(h);
    result.payload_bytes += h->count * types[h->type].size;
    if (!types[h->type].ref_offsets.empty())
      stack.push_back(h);
  }

  void scan(ObjHeader *h) {
    const Type &t = types[h->type];
    auto *base = static_cast<char *>(h->payload());
    for (std::uint64_t e = 0; e < h->count; ++e) {
      char *elem = base + e * t.size;
      for (std::uint64_t off : t.ref_offsets) {
        void *p;
        std::memcpy(&p, elem + off, sizeof p);
        visit(p, -1, [&] {
          return "object #" + std::to_string(h->id) + " (" + t.name + ") field " +
                 field_path(types, h->type, e * t.size + off);
        });
      }
    }
  }
};

// Refs inside roots can be typed exactly; inside objects the marker checks the
// target type lazily via the field path on error only.
void mark_root(Marker &m, const Root &r) {
  const Field &f = r.field;
  for (std::uint64_t e = 0; e < f.count; ++e) {
    char *elem = static_cast<char *>(r.address) + e * f.elem_size;
    auto where = [&] {
      return "root " + r.name + (f.count > 1 ? "[" + std::to_string(e) + "]" : "");
    };
    if (f.kind == CHECKSYNC_FIELD_REF) {
      void *p;
      std::memcpy(&p, elem, sizeof p);
      m.visit(p, f.target, where);
    } else if (f.kind == CHECKSYNC_FIELD_RECORD) {
      const Type &t = m.types[size_t(f.target)];
      for (std::uint64_t off : t.ref_offsets) {
        void *p;
        std::memcpy(&p, elem + off, sizeof p);
        m.visit(p, -1, [&] { return where() + "." + field_path(m.types, f.target, off); });
      }
    }
  }
}

} // namespace

MarkResult mark_from_roots(const std::vector<Type> &types, const std::vector<Root> &roots,
                           std::uint32_t mark) {
  Marker m{types, mark, {}, {}};
  for (const Root &r : roots)
    mark_root(m, r);
  while (!m.stack.empty()) {
    ObjHeader *h = m.stack.back();
    m.stack.pop_back();
    m.scan(h);
  }
  // Sort by id on (id, header) pairs: comparing through the headers would
  // miss the cache on every comparison (it was half the checkpoint time).
  std::vector<std::pair<std::uint64_t, ObjHeader *>> keyed;
  keyed.reserve(m.result.objects.size());
  for (ObjHeader *h : m.result.objects)
    keyed.emplace_back(h->id, h);
  std::sort(keyed.begin(), keyed.end(),
            [](const auto &a, const auto &b) { return a.first < b.first; });
  for (size_t i = 0; i < keyed.size(); ++i)
    m.result.objects[i] = keyed[i].second;
  return std::move(m.result);
}

} // namespace checksync::detail
