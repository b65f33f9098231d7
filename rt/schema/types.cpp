// types.cpp - target resolution and descriptions of persistent types.
#include "schema/types.h"

#include <algorithm>
#include <cstdio>

#include <unordered_map>

namespace checksync::detail {

const char *kind_name(std::uint32_t kind) {
  switch (kind) {
  case CHECKSYNC_FIELD_INT: return "int";
  case CHECKSYNC_FIELD_UINT: return "uint";
  case CHECKSYNC_FIELD_FLOAT: return "float";
  case CHECKSYNC_FIELD_BYTES: return "bytes";
  case CHECKSYNC_FIELD_REF: return "ref";
  case CHECKSYNC_FIELD_RECORD: return "record";
  case CHECKSYNC_FIELD_CODEC: return "codec";
  }
  return "?";
}

std::string describe_field(const Field &f, const std::vector<Type> &types) {
  std::string s;
  if (f.kind == CHECKSYNC_FIELD_REF || f.kind == CHECKSYNC_FIELD_RECORD) {
    s = f.kind == CHECKSYNC_FIELD_REF ? "ref " : "record ";
    s += f.target >= 0 && size_t(f.target) < types.size() ? types[f.target].name
                                                          : f.target_key;
  } else if (f.kind == CHECKSYNC_FIELD_CODEC) {
    s = f.target_key;
  } else {
    s = kind_name(f.kind) + std::to_string(f.elem_size * 8);
  }
  if (f.count != 1)
    s += "[" + std::to_string(f.count) + "]";
  s += " at offset " + std::to_string(f.offset);
  return s;
}

static void check_field_shape(const Field &f, const std::string &owner) {
  auto bad = [&](const char *why) {
    throw Error("type " + owner + " field '" + f.name + "': " + why);
  };
  switch (f.kind) {
  case CHECKSYNC_FIELD_INT:
  case CHECKSYNC_FIELD_UINT:
    if (f.elem_size != 1 && f.elem_size != 2 && f.elem_size != 4 && f.elem_size != 8)
      bad("integer size must be 1, 2, 4 or 8 bytes");
    break;
  case CHECKSYNC_FIELD_FLOAT:
    if (f.elem_size != 4 && f.elem_size != 8)
      bad("float size must be 4 or 8 bytes");
    break;
  case CHECKSYNC_FIELD_BYTES:
    if (f.elem_size == 0)
      bad("empty byte field");
    break;
  case CHECKSYNC_FIELD_REF:
    if (f.elem_size != sizeof(void *))
      bad("ref size must be pointer size");
    break;
  case CHECKSYNC_FIELD_RECORD:
    break;
  case CHECKSYNC_FIELD_CODEC:
    if (f.elem_size == 0)
      bad("empty library value");
    break;
  default:
    bad("unknown field kind");
  }
  if (f.count == 0)
    bad("zero-length array");
}

void resolve_targets(std::vector<Type> &types, std::vector<Root> *roots) {
  std::unordered_map<std::string, std::int64_t> by_key;
  for (size_t i = 0; i < types.size(); ++i)
    by_key.emplace(types[i].key, std::int64_t(i));
  auto resolve = [&](Field &f, const std::string &owner) {
    check_field_shape(f, owner);
    if (f.kind != CHECKSYNC_FIELD_REF && f.kind != CHECKSYNC_FIELD_RECORD)
      return;
    auto it = by_key.find(f.target_key);
    if (it == by_key.end())
      throw Error(owner + " field '" + f.name + "' refers to persistent type '" +
                  f.target_key + "', which no translation unit registered");
    f.target = it->second;
  };
  for (auto &t : types)
    for (auto &f : t.fields) {
      resolve(f, t.name);
      if (f.offset + f.elem_size * f.count > t.size)
        throw Error("type " + t.name + " field '" + f.name + "' lies outside the object");
    }
  if (roots)
    for (auto &r : *roots)
      resolve(r.field, "root");

  // Flattened views, computed depth-first; records nest acyclically by value.
  std::vector<int> state(types.size(), 0); // 0 new, 1 in progress, 2 done
  auto compute = [&](auto &self, size_t i) -> void {
    if (state[i] == 2)
      return;
    if (state[i] == 1)
      throw Error("type " + types[i].name + " contains itself by value");
    state[i] = 1;
    Type &t = types[i];
    std::vector<std::uint64_t> refs;
    std::vector<CodecSlot> codecs, inits;
    std::vector<Vptr> vptrs;
    for (auto &f : t.fields) {
      for (std::uint64_t e = 0; e < f.count; ++e) {
        std::uint64_t base = f.offset + e * f.elem_size;
        if (f.kind == CHECKSYNC_FIELD_REF) {
          refs.push_back(base);
        } else if (f.kind == CHECKSYNC_FIELD_CODEC) {
          if (f.codec && f.codec->holds_refs)
            codecs.push_back({base, f.codec});
        } else if (f.kind == CHECKSYNC_FIELD_RECORD) {
          self(self, size_t(f.target));
          const Type &n = types[size_t(f.target)];
          for (auto o : n.ref_offsets)
            refs.push_back(base + o);
          for (auto c : n.ref_codecs)
            codecs.push_back({base + c.offset, c.codec});
          for (auto c : n.init_slots)
            inits.push_back({base + c.offset, c.codec});
          for (auto v : n.all_vptrs)
            vptrs.push_back({base + v.offset, v.value});
        }
      }
    }
    for (auto &f : t.inits)
      for (std::uint64_t e = 0; e < f.count; ++e)
        if (f.codec)
          inits.push_back({f.offset + e * f.elem_size, f.codec});
    for (auto &v : t.vptrs)
      vptrs.push_back(v); // last: a base's own vptrs are overridden by these
    t.ref_offsets = std::move(refs);
    t.ref_codecs = std::move(codecs);
    t.init_slots = std::move(inits);
    t.all_vptrs = std::move(vptrs);
    t.needs_setup = !t.init_slots.empty() || !t.all_vptrs.empty();
    state[i] = 2;
  };
  for (size_t i = 0; i < types.size(); ++i)
    compute(compute, i);
}

} // namespace checksync::detail

namespace checksync::detail {
namespace {
// The types find_node_holders is working on, for record_may_hold_nodes.
struct NodeHolderSearch {
  std::vector<Type> &types;
  std::unordered_map<std::string, std::size_t> by_key;
  std::vector<int> state; // 0 new, 1 in progress, 2 done
};
thread_local NodeHolderSearch *search = nullptr;

bool holds_nodes(NodeHolderSearch &s, std::size_t i) {
  if (s.state[i] == 2)
    return s.types[i].holds_nodes;
  if (s.state[i] == 1)
    return false; // a record holding a container of itself: its other fields decide
  s.state[i] = 1;
  bool holds = false;
  for (const Field &f : s.types[i].fields) {
    if (f.kind == CHECKSYNC_FIELD_CODEC && f.codec && f.codec->may_hold_nodes)
      holds = holds || f.codec->may_hold_nodes();
    else if (f.kind == CHECKSYNC_FIELD_RECORD && f.target >= 0)
      holds = holds || holds_nodes(s, std::size_t(f.target));
  }
  s.types[i].holds_nodes = holds;
  s.state[i] = 2;
  return holds;
}
} // namespace

void find_node_holders(std::vector<Type> &types) {
  NodeHolderSearch s{types, {}, std::vector<int>(types.size(), 0)};
  for (std::size_t i = 0; i < types.size(); ++i)
    s.by_key.emplace(types[i].key, i);
  search = &s;
  struct Reset {
    ~Reset() { search = nullptr; }
  } reset;
  for (std::size_t i = 0; i < types.size(); ++i)
    holds_nodes(s, i);
}

} // namespace checksync::detail

bool checksync::codec::record_may_hold_nodes(const char *key) {
  using namespace checksync::detail;
  if (!search)
    return false;
  auto it = search->by_key.find(key);
  return it != search->by_key.end() && holds_nodes(*search, it->second);
}

std::string checksync::detail::schema_fingerprint(const std::vector<Type> &types) {
  std::vector<const Type *> sorted;
  for (const Type &t : types)
    sorted.push_back(&t);
  std::sort(sorted.begin(), sorted.end(),
            [](const Type *a, const Type *b) { return a->key < b->key; });
  std::string text;
  for (const Type *t : sorted) {
    text += t->key + "{";
    for (const Field &f : t->fields)
      text += f.name + ":" + std::to_string(f.kind) + "/" + std::to_string(f.elem_size) + "x" +
              std::to_string(f.count) + "/" + f.target_key + ";";
    text += "}";
  }
  std::uint64_t h = 1469598103934665603ull; // FNV-1a: stable across runs and builds
  for (unsigned char c : text)
    h = (h ^ c) * 1099511628211ull;
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", (unsigned long long)h);
  return out;
}

std::vector<std::string> checksync::detail::split_renamed_from(std::string_view list) {
  std::vector<std::string> names;
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    names.emplace_back(list.substr(0, comma));
    list = comma == list.npos ? std::string_view() : list.substr(comma + 1);
  }
  return names;
}
