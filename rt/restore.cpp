// restore.cpp - schema check, allocation, decoding and ref swizzling.
#include "restore.h"

#include "heap.h"

#include <cstring>
#include <unordered_map>

namespace checksync::detail {
namespace {

std::string shape(const Field &f) {
  std::string s = (f.kind == CHECKSYNC_FIELD_REF || f.kind == CHECKSYNC_FIELD_RECORD)
                      ? std::string(kind_name(f.kind)) + " " + f.target_key
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
  for (const Field &f : ck.fields) {
    const Field *g = nullptr;
    for (const Field &h : pg.fields)
      if (h.name == f.name)
        g = &h;
    if (!g)
      throw Error(pre + "field '" + f.name + "' (" + shape(f) +
                  ") is in the checkpoint but not in the program");
    if (!same_field(f, *g))
      throw Error(pre + "field '" + f.name + "' is " + shape(f) + " in the checkpoint but " +
                  shape(*g) + " in the program");
  }
  for (const Field &g : pg.fields) {
    bool found = false;
    for (const Field &f : ck.fields)
      found |= f.name == g.name;
    if (!found)
      throw Error(pre + "field '" + g.name + "' (" + shape(g) +
                  ") is in the program but not in the checkpoint");
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
  for (const Type &t : types)
    by_key.emplace(t.key, &t);
  for (const Type &ct : img.types) {
    auto it = by_key.find(ct.key);
    if (it == by_key.end())
      throw Error("checkpoint does not match this program: type " + ct.name +
                  " is not a persistent type of this program (was it written by a "
                  "different binary?)");
    compare_type(ct, *it->second);
  }
  for (const DecodedRoot &cr : img.roots) {
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

std::uint64_t restore_image(const Image &img, const std::vector<Type> &types,
                            const std::vector<Root> &roots) {
  check_schema(img, types, roots);
  std::unordered_map<std::string, std::uint32_t> index;
  for (std::uint32_t i = 0; i < types.size(); ++i)
    index.emplace(types[i].key, i);
  std::vector<std::uint32_t> map(img.types.size());
  for (size_t i = 0; i < img.types.size(); ++i)
    map[i] = index.at(img.types[i].key);

  // Pass 1: allocate everything (new addresses, old ids).
  std::vector<char *> addr(img.objects.size());
  std::uint64_t max_id = 0;
  for (size_t i = 0; i < img.objects.size(); ++i) {
    const DecodedObject &o = img.objects[i];
    const Type &t = types[map[o.type]];
    addr[i] = static_cast<char *>(heap_alloc(map[o.type], t.size, t.align, o.count, o.id));
    std::memset(addr[i], 0, t.size * o.count); // transient fields and padding
    max_id = o.id;
  }
  heap_reserve_ids_through(max_id);
  auto addr_of = [&](std::uint64_t id) -> void * { return addr[size_t(img.find(id))]; };

  // Pass 2: fields, refs swizzled.
  for (size_t i = 0; i < img.objects.size(); ++i) {
    const DecodedObject &o = img.objects[i];
    const Type &t = types[map[o.type]];
    const std::size_t nf = t.fields.size();
    for (std::uint64_t e = 0; e < o.count; ++e)
      for (size_t k = 0; k < nf; ++k) {
        const Field &f = t.fields[k];
        store_value(o.values[e * nf + k], f, types, addr[i] + e * t.size + f.offset, addr_of);
      }
  }

  // Roots last: the program sees either its initial values or the whole state.
  for (const DecodedRoot &cr : img.roots)
    for (const Root &r : roots)
      if (r.name == cr.root.name)
        store_value(*cr.value, r.field, types, static_cast<char *>(r.address), addr_of);
  return img.objects.size();
}

} // namespace checksync::detail
