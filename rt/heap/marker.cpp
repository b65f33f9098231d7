// marker.cpp - depth-first marking with an explicit stack. Raw refs are found
// through each type's flattened ref_offsets; refs inside library values
// (containers, smart pointers) through their codec's visit function, which
// calls back into the marker (the runtime's codec::RefVisitor).
#include "heap/marker.h"

#include "schema/registry.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>

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

} // namespace checksync::detail

namespace checksync::codec {

// The marker. Codec visit functions call visit_ref / visit_record on it.
class RefVisitor {
public:
  using Types = std::vector<detail::Type>;
  RefVisitor(const Types &types, const std::unordered_map<std::string, std::uint32_t> &by_key,
             std::uint32_t mark)
      : types(types), by_key(by_key), mark(mark) {}

  const Types &types;
  const std::unordered_map<std::string, std::uint32_t> &by_key;
  std::uint32_t mark;
  std::uint32_t skip_chain = 0; // close_delta: objects this chain holds are not added
  bool lenient = false;         // close_delta after a marking: bad refs are garbage's
  detail::MarkResult result;
  std::vector<detail::ObjHeader *> stack;
  std::function<std::string()> where; // describes the value being scanned
  // Set by fix_iterators: iterators are rewritten, refs ignored.
  const detail::NodeResolver *resolve = nullptr;

  static std::string hex(const void *p) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%p", p);
    return buf;
  }

  // `what` describes the ref; it is only called to build an error message.
  template <class What> void ref(const void *p, const What &what) {
    using namespace detail;
    if (!p || resolve)
      return;
    std::uint64_t off;
    ObjHeader *h = find_object(p, &off);
    if (!h && lenient)
      return;
    if (!h)
      throw Error(what() + " = " + hex(p) +
                  (in_heap(p) ? " points to a freed persistent object"
                              : " does not point into a persistent object made with new "
                                "(globals, locals and placement-new objects "
                                "cannot be referenced from persistent state)"));
    if (h->mark == mark || (skip_chain && h->stored == skip_chain))
      return;
    h->mark = mark;
    result.objects.push_back(h);
    const Type &t = types[h->type];
    result.payload_bytes += h->count * t.size;
    if (!t.ref_offsets.empty() || !t.ref_codecs.empty())
      stack.push_back(h);
  }

  // Refs inside one value of type t at p (an object element, a record).
  template <class What> void scan_value(const detail::Type &t, const char *p, const What &what) {
    for (std::uint64_t off : t.ref_offsets) {
      const void *q;
      std::memcpy(&q, p + off, sizeof q);
      ref(q, [&] { return what(off); });
    }
    for (const detail::CodecSlot &c : t.ref_codecs) {
      auto saved = where;
      where = [&] { return what(c.offset); };
      c.codec->visit(p + c.offset, *this);
      where = saved;
    }
  }

  void scan_object(detail::ObjHeader *h) {
    const detail::Type &t = types[h->type];
    auto *base = static_cast<const char *>(h->payload());
    for (std::uint64_t e = 0; e < h->count; ++e)
      scan_value(t, base + e * t.size, [&](std::uint64_t off) {
        return "object #" + std::to_string(h->id) + " (" + t.name + ") field " +
               detail::field_path(types, h->type, e * t.size + off);
      });
  }

  const detail::Type &type_of_key(const char *key) {
    auto it = by_key.find(key);
    if (it == by_key.end())
      throw detail::Error(std::string("a library value holds a record of type '") + key +
                          "', which is not a registered persistent type");
    return types[it->second];
  }
};

void visit_ref(RefVisitor &vis, const void *p) {
  vis.ref(p, [&] { return (vis.where ? vis.where() : std::string("a value")) + " element"; });
}

void visit_node(RefVisitor &vis, const void *slot, const void *kind) {
  if (!vis.resolve)
    return;
  std::uint64_t id;
  std::memcpy(&id, slot, sizeof id);
  if (!id)
    return;
  void *node = (*vis.resolve)(id, kind);
  std::memcpy(const_cast<void *>(slot), &node, sizeof node);
}

void visit_record(RefVisitor &vis, const void *obj, const char *key) {
  const detail::Type &t = vis.type_of_key(key);
  auto outer = vis.where;
  vis.scan_value(t, static_cast<const char *>(obj), [&](std::uint64_t) {
    return (outer ? outer() : std::string("a value")) + " element";
  });
}

} // namespace checksync::codec

namespace checksync::detail {
namespace {

void mark_root(codec::RefVisitor &m, const Root &r) {
  const Field &f = r.field;
  for (std::uint64_t e = 0; e < f.count; ++e) {
    char *elem = static_cast<char *>(r.address) + e * f.elem_size;
    auto where = [&] {
      return "root " + r.name + (f.count > 1 ? "[" + std::to_string(e) + "]" : "");
    };
    if (f.kind == CHECKSYNC_FIELD_REF) {
      void *p;
      std::memcpy(&p, elem, sizeof p);
      m.ref(p, where);
    } else if (f.kind == CHECKSYNC_FIELD_RECORD) {
      m.scan_value(m.types[size_t(f.target)], elem, [&](std::uint64_t off) {
        return where() + "." + field_path(m.types, f.target, off);
      });
    } else if (f.kind == CHECKSYNC_FIELD_CODEC && f.codec && f.codec->holds_refs) {
      m.where = where;
      f.codec->visit(elem, m);
      m.where = nullptr;
    }
  }
}

} // namespace

namespace {
// Sorts by id on (id, header) pairs: comparing through the headers would
// miss the cache on every comparison (it was half the checkpoint time).
void sort_by_id(std::vector<ObjHeader *> &objects) {
  std::vector<std::pair<std::uint64_t, ObjHeader *>> keyed;
  keyed.reserve(objects.size());
  for (ObjHeader *h : objects)
    keyed.emplace_back(h->id, h);
  std::sort(keyed.begin(), keyed.end(),
            [](const auto &a, const auto &b) { return a.first < b.first; });
  for (size_t i = 0; i < keyed.size(); ++i)
    objects[i] = keyed[i].second;
}

std::unordered_map<std::string, std::uint32_t> index_by_key(const std::vector<Type> &types) {
  std::unordered_map<std::string, std::uint32_t> by_key;
  for (std::uint32_t i = 0; i < types.size(); ++i)
    by_key.emplace(types[i].key, i);
  return by_key;
}

void drain(codec::RefVisitor &m) {
  while (!m.stack.empty()) {
    ObjHeader *h = m.stack.back();
    m.stack.pop_back();
    m.scan_object(h);
  }
}
} // namespace

void fix_iterators(const std::vector<Type> &types, const std::vector<const Root *> &roots,
                   const std::vector<ObjHeader *> &objects, const NodeResolver &resolve) {
  auto by_key = index_by_key(types);
  codec::RefVisitor m(types, by_key, 0);
  m.resolve = &resolve;
  for (const Root *r : roots)
    mark_root(m, *r);
  for (ObjHeader *h : objects)
    m.scan_object(h);
}

MarkResult mark_from_roots(const std::vector<Type> &types, const std::vector<Root> &roots,
                           std::uint32_t mark) {
  auto by_key = index_by_key(types);
  codec::RefVisitor m(types, by_key, mark);
  for (const Root &r : roots)
    mark_root(m, r);
  drain(m);
  sort_by_id(m.result.objects);
  return std::move(m.result);
}

void close_delta(const std::vector<Type> &types, const std::vector<Root> &roots,
                 std::vector<ObjHeader *> &objects, std::uint32_t mark, std::uint32_t chain,
                 bool garbage_may_dangle) {
  auto by_key = index_by_key(types);
  codec::RefVisitor m(types, by_key, mark);
  m.skip_chain = chain;
  m.lenient = garbage_may_dangle;
  for (const Root &r : roots)
    mark_root(m, r);
  // The targets of plain ref fields are scattered over the heap: gather them
  // first and prefetch their headers ahead, so the misses overlap. Objects
  // with refs inside library values go through their codecs.
  std::vector<const void *> targets;
  for (ObjHeader *h : objects) {
    const Type &t = types[h->type];
    if (!t.ref_codecs.empty()) {
      m.scan_object(h);
      continue;
    }
    auto *base = static_cast<const char *>(h->payload());
    for (std::uint64_t e = 0; e < h->count; ++e)
      for (std::uint64_t off : t.ref_offsets) {
        const void *q;
        std::memcpy(&q, base + e * t.size + off, sizeof q);
        if (q)
          targets.push_back(q);
      }
  }
  constexpr std::size_t kAhead = 16;
  try {
    for (std::size_t i = 0; i < targets.size(); ++i) {
      if (i + kAhead < targets.size())
        __builtin_prefetch(static_cast<const char *>(targets[i + kAhead]) - sizeof(ObjHeader),
                           0, 1);
      m.ref(targets[i], [] { return std::string(); });
    }
  } catch (const Error &) {
    for (ObjHeader *h : objects) // again, to name the object and field
      m.scan_object(h);
    throw;
  }
  drain(m);
  if (!m.result.objects.empty()) {
    for (ObjHeader *h : m.result.objects)
      h->stored = chain;
    std::sort(m.result.objects.begin(), m.result.objects.end());
    std::size_t mid = objects.size();
    objects.insert(objects.end(), m.result.objects.begin(), m.result.objects.end());
    std::inplace_merge(objects.begin(), objects.begin() + std::ptrdiff_t(mid), objects.end());
  }
}

} // namespace checksync::detail
