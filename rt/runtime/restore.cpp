// restore.cpp - schema check, allocation, decoding and ref swizzling.
#include "runtime/restore.h"

#include "format/codec_rt.h"
#include "heap/heap.h"
#include "heap/marker.h"
#include "log/log.h"

#include <cstring>
#include <unordered_map>

namespace checksync::detail {
namespace {

// Type names by key, for messages (program and checkpoint agree on names).
thread_local const std::unordered_map<std::string, std::string> *names = nullptr;

std::string shape(const Field &f) {
  std::string target = f.target_key;
  if (names)
    if (auto it = names->find(f.target_key); it != names->end())
      target = it->second;
  if (f.kind == CHECKSYNC_FIELD_CODEC)
    return f.target_key + (f.count != 1 ? "[" + std::to_string(f.count) + "]" : "") +
           " at offset " + std::to_string(f.offset);
  std::string s = (f.kind == CHECKSYNC_FIELD_REF || f.kind == CHECKSYNC_FIELD_RECORD)
                      ? std::string(kind_name(f.kind)) + " " + target
                      : kind_name(f.kind) + std::to_string(f.elem_size * 8);
  if (f.count != 1)
    s += "[" + std::to_string(f.count) + "]";
  return s + " at offset " + std::to_string(f.offset);
}

bool same_field(const Field &a, const Field &b) {
  return a.name == b.name && a.offset == b.offset && a.kind == b.kind &&
         a.elem_size == b.elem_size && a.count == b.count && a.target_key == b.target_key;
}

void compare_type(const Type &ck, const Type &pg) {
  const std::string pre = "checkpoint does not match this program: type " + pg.name + ": ";
  auto find = [](const Type &t, const std::string &name) -> const Field * {
    for (const Field &f : t.fields)
      if (f.name == name)
        return &f;
    return nullptr;
  };
  // Missing and added fields first: they explain the offsets that moved.
  for (const Field &f : ck.fields)
    if (!find(pg, f.name))
      throw Error(pre + "field '" + f.name + "' (" + shape(f) +
                  ") is in the checkpoint but not in the program");
  for (const Field &g : pg.fields)
    if (!find(ck, g.name))
      throw Error(pre + "field '" + g.name + "' (" + shape(g) +
                  ") is in the program but not in the checkpoint");
  for (const Field &f : ck.fields) {
    const Field &g = *find(pg, f.name);
    if (!same_field(f, g))
      throw Error(pre + "field '" + f.name + "' is " + shape(f) + " in the checkpoint but " +
                  shape(g) + " in the program");
  }
  if (ck.size != pg.size || ck.align != pg.align)
    throw Error(pre + "size/alignment " + std::to_string(ck.size) + "/" +
                std::to_string(ck.align) + " in the checkpoint but " +
                std::to_string(pg.size) + "/" + std::to_string(pg.align) + " in the program");
}

} // namespace

void check_schema(const Image &img, const std::vector<Type> &types,
                  const std::vector<Root> &roots) {
  std::unordered_map<std::string, const Type *> by_key;
  std::unordered_map<std::string, std::string> name_of;
  for (const Type &t : img.types)
    name_of.emplace(t.key, t.name);
  for (const Type &t : types) {
    by_key.emplace(t.key, &t);
    name_of[t.key] = t.name;
  }
  names = &name_of;
  struct Reset { ~Reset() { names = nullptr; } } reset;
  for (const Type &ct : img.types) {
    auto it = by_key.find(ct.key);
    if (it == by_key.end())
      throw Error("checkpoint does not match this program: type " + ct.name +
                  " is not a persistent type of this program (was it written by a "
                  "different binary?)");
    compare_type(ct, *it->second);
  }
  std::unordered_map<std::string, int> root_seen;
  for (const DecodedRoot &cr : img.roots) {
    if (root_seen[cr.root.name]++)
      throw Error("corrupt checkpoint: root " + cr.root.name + " appears twice");
    const Root *pr = nullptr;
    for (const Root &r : roots)
      if (r.name == cr.root.name)
        pr = &r;
    if (!pr)
      throw Error("checkpoint does not match this program: root " + cr.root.name +
                  " is not a root of this program");
    Field a = cr.root.field, b = pr->field;
    a.offset = b.offset = 0;
    if (!same_field(a, b))
      throw Error("checkpoint does not match this program: root " + cr.root.name + " is " +
                  shape(a) + " in the checkpoint but " + shape(b) + " in the program");
  }
  for (const Root &r : roots) {
    bool found = false;
    for (const DecodedRoot &cr : img.roots)
      found |= cr.root.name == r.name;
    if (!found)
      throw Error("checkpoint does not match this program: root " + r.name +
                  " is not in the checkpoint");
  }
}

namespace {
// Iterators get the nodes rebuilt for their ids; the objects holding nodes or
// iterators go to *renumbered: node ids are addresses, so those objects must
// be written again before any checkpoint refers to the new nodes.
void fix_restored_iterators(RestoreContext &cx, const std::vector<Type> &types,
                            const std::vector<const Root *> &roots,
                            const std::vector<ObjHeader *> &objects,
                            std::vector<ObjHeader *> *renumbered) {
  std::uint64_t lost = 0;
  NodeResolver resolve = [&](std::uint64_t id, const void *kind) -> void * {
    auto it = cx.nodes.find(id);
    if (it == cx.nodes.end() || !it->second.node || it->second.kind != kind) {
      ++lost;
      return nullptr;
    }
    return it->second.after ? it->second.after(it->second.node) : it->second.node;
  };
  fix_iterators(types, roots, objects, resolve);
  if (lost)
    LOG_WARN("%llu iterator(s) pointed at no element of the restored state (its container is "
             "transient; or it is the end() of an empty container, or the before_begin() of a "
             "forward_list, nested in another library value): they resume singular",
             (unsigned long long)lost);
  if (cx.copied_nodes)
    LOG_WARN("%llu container node(s) were lost because a persistent record holding their "
             "container was copied, not moved, into a library container while rebuilding it "
             "(it declares a copy constructor or destructor and no move constructor): "
             "iterators to them resume singular; give the record a move constructor",
             (unsigned long long)cx.copied_nodes);
  if (renumbered)
    renumbered->insert(renumbered->end(), objects.begin(), objects.end());
}
} // namespace

std::uint64_t restore_image(const Image &img, const std::vector<Type> &types,
                            const std::vector<Root> &roots, std::uint32_t chain,
                            std::vector<std::uint64_t> *dropped,
                            std::vector<ObjHeader *> *renumbered) {
  check_schema(img, types, roots);
  ExactFloats exact;
  std::unordered_map<std::string, std::uint32_t> index;
  for (std::uint32_t i = 0; i < types.size(); ++i)
    index.emplace(types[i].key, i);
  std::vector<std::uint32_t> map(img.types.size());
  for (size_t i = 0; i < img.types.size(); ++i)
    map[i] = index.at(img.types[i].key);

  RestoreContext cx{img, types, index};
  current_restore = &cx;
  struct Reset {
    ~Reset() { current_restore = nullptr; }
  } reset;

  // Pass 1: allocate everything (new addresses, old ids); vtable pointers and
  // transient fields are set up before any field is decoded.
  cx.addr.resize(img.objects.size());
  cx.bytes.resize(img.objects.size());
  std::uint64_t max_id = 0;
  for (size_t i = 0; i < img.objects.size(); ++i) {
    const DecodedObject &o = img.objects[i];
    max_id = o.id;
    if (!img.reachable.empty() && !img.reachable[i]) {
      if (dropped)
        dropped->push_back(o.id);
      continue; // garbage the chain carried: nothing can refer to it
    }
    const Type &t = types[map[o.type]];
    char *p = static_cast<char *>(heap_alloc(map[o.type], t.size, t.align, o.count, o.id));
    (reinterpret_cast<ObjHeader *>(p) - 1)->stored = chain;
    if (t.needs_setup)
      for (std::uint64_t e = 0; e < o.count; ++e)
        setup_raw(t, p + e * t.size);
    else
      std::memset(p, 0, t.size * o.count);
    cx.addr[i] = p;
    cx.bytes[i] = t.size * o.count;
  }
  heap_reserve_ids_through(max_id);

  // Pass 2: fields, refs swizzled, library values rebuilt by their codecs.
  // Objects and roots that hold container nodes or iterators are noted.
  std::vector<ObjHeader *> with_nodes;
  for (size_t i = 0; i < img.objects.size(); ++i) {
    const DecodedObject &o = img.objects[i];
    if (!cx.addr[i])
      continue;
    const Type &t = types[map[o.type]];
    const std::size_t nf = t.fields.size();
    const std::uint64_t events = cx.node_events;
    for (std::uint64_t e = 0; e < o.count; ++e)
      for (size_t k = 0; k < nf; ++k) {
        const Field &f = t.fields[k];
        store_value(cx, o.values[e * nf + k], f, cx.addr[i] + e * t.size + f.offset,
                    /*constructed=*/false);
      }
    if (cx.node_events != events)
      with_nodes.push_back(reinterpret_cast<ObjHeader *>(cx.addr[i]) - 1);
  }

  // Roots last: the program sees either its initial values or the whole state.
  // Roots are live globals: their library values are destroyed and rebuilt.
  std::vector<const Root *> roots_with_nodes;
  for (const DecodedRoot &cr : img.roots)
    for (const Root &r : roots)
      if (r.name == cr.root.name) {
        const std::uint64_t events = cx.node_events;
        store_value(cx, *cr.value, r.field, static_cast<char *>(r.address),
                    /*constructed=*/true);
        if (cx.node_events != events)
          roots_with_nodes.push_back(&r);
      }
  if (!with_nodes.empty() || !roots_with_nodes.empty())
    fix_restored_iterators(cx, types, roots_with_nodes, with_nodes, renumbered);
  return img.objects.size() - (dropped ? dropped->size() : 0);
}

} // namespace checksync::detail
