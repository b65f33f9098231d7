// verify.cpp - see verify.h. Objects are compared as re-packed msgpack with
// type keys, so the comparison is independent of schema order.
#include "runtime/verify.h"

#include <algorithm>
#include <sstream>
#include <vector>

namespace checksync::detail {
namespace {

std::string pack_object(const Image &img, const DecodedObject &o) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  std::size_t n = o.count * img.types[o.type].fields.size();
  pk.pack_array(std::uint32_t(2 + n));
  pk.pack(img.types[o.type].key);
  pk.pack(o.count);
  for (std::size_t k = 0; k < n; ++k)
    pack_exact(pk, o.values[k]);
  return std::string(buf.data(), buf.size());
}

// Packs a value with the elements of every array and the entries of every
// map sorted: unordered containers iterate in an order that changes when
// they are rebuilt (resume), which is not a difference in state.
std::string canonical(const msgpack::object &o) {
  msgpack::sbuffer b;
  msgpack::packer<msgpack::sbuffer> pk(b);
  std::vector<std::string> parts;
  if (o.type == msgpack::type::ARRAY) {
    for (std::uint32_t i = 0; i < o.via.array.size; ++i)
      parts.push_back(canonical(o.via.array.ptr[i]));
    pk.pack_array(o.via.array.size);
  } else if (o.type == msgpack::type::MAP) {
    for (std::uint32_t i = 0; i < o.via.map.size; ++i)
      parts.push_back(canonical(o.via.map.ptr[i].key) + canonical(o.via.map.ptr[i].val));
    pk.pack_map(o.via.map.size);
  } else {
    pack_exact(pk, o);
  }
  std::sort(parts.begin(), parts.end());
  for (const std::string &p : parts)
    b.write(p.data(), p.size());
  return std::string(b.data(), b.size());
}

bool unordered(const Field &f) {
  return f.kind == CHECKSYNC_FIELD_CODEC && f.target_key.find("unordered_") != std::string::npos;
}

std::string show(const msgpack::object &o) {
  std::ostringstream os;
  os << o;
  std::string s = os.str();
  return s.size() > 120 ? s.substr(0, 117) + "..." : s;
}

} // namespace

void Replica::apply(const std::string &bytes) {
  auto img = parse_image(bytes, "verify");
  if (img->info.kind == "full")
    objects_.clear();
  for (const DecodedObject &o : img->objects)
    objects_[o.id] = pack_object(*img, o);
  for (std::uint64_t id : img->freed)
    objects_.erase(id);
}

std::string Replica::compare(const std::string &full_bytes) const {
  auto img = parse_image(full_bytes, "verify");
  for (const DecodedObject &o : img->objects) {
    const Type &t = img->types[o.type];
    std::string want = pack_object(*img, o);
    auto it = objects_.find(o.id);
    if (it == objects_.end())
      return "object #" + std::to_string(o.id) + " (" + t.name +
             ") is reachable but was never written: its allocation was not tracked";
    if (it->second == want)
      continue;
    // Find the first differing value to name the field.
    msgpack::object_handle stored = msgpack::unpack(it->second.data(), it->second.size());
    const msgpack::object &a = stored.get();
    std::size_t nf = t.fields.size();
    if (a.via.array.size != 2 + o.count * nf)
      return "object #" + std::to_string(o.id) + " (" + t.name + ") changed shape";
    for (std::size_t k = 0; k < o.count * nf; ++k) {
      msgpack::sbuffer x, y;
      msgpack::packer<msgpack::sbuffer> px(x), py(y);
      pack_exact(px, a.via.array.ptr[2 + k]);
      pack_exact(py, o.values[k]);
      if (x.size() == y.size() && std::equal(x.data(), x.data() + x.size(), y.data()))
        continue;
      if (unordered(t.fields[k % nf]) &&
          canonical(a.via.array.ptr[2 + k]) == canonical(o.values[k]))
        continue;
      std::string field = t.fields[k % nf].name;
      if (o.count > 1)
        field = "[" + std::to_string(k / nf) + "]." + field;
      return "object #" + std::to_string(o.id) + " (" + t.name + ") field '" + field +
             "': stored " + show(a.via.array.ptr[2 + k]) + ", heap " + show(o.values[k]) +
             " (a write the barrier did not see; use checksync::touch())";
    }
  }
  return "";
}

} // namespace checksync::detail
