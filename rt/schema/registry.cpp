// registry.cpp - registration of persistent types and roots (see registry.h).
#include "schema/registry.h"
#include "log/log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>

namespace checksync::detail {
namespace {

struct State {
  std::mutex mu;
  std::deque<Type> types; // deque: stable references while growing
  std::unordered_map<std::string, std::uint32_t> by_key;
  std::unordered_map<const void *, std::uint32_t> by_desc;
  std::vector<Root> roots;
  std::shared_ptr<const Snapshot> snapshot; // rebuilt when types or roots change
  std::vector<std::string> units_without_plugin; // checksync_rt_tu_without_plugin
};

// Lock-free sizeof(T) by index: read on every delete.
constexpr std::uint32_t kMaxTypes = 1u << 16;
std::atomic<std::uint64_t> type_sizes[kMaxTypes];

State &state() {
  static State *s = new State; // never destroyed: used from destructors too
  return *s;
}

[[noreturn]] void fatal(const std::string &msg) {
  LOG_ERROR("%s", msg.c_str());
  std::exit(3);
}

bool same_layout(const Type &a, const Type &b) {
  if (a.size != b.size || a.align != b.align || a.fields.size() != b.fields.size() ||
      a.inits.size() != b.inits.size() || a.vptrs.size() != b.vptrs.size())
    return false;
  for (size_t i = 0; i < a.fields.size(); ++i) {
    const Field &x = a.fields[i], &y = b.fields[i];
    if (x.name != y.name || x.offset != y.offset || x.kind != y.kind ||
        x.elem_size != y.elem_size || x.count != y.count || x.target_key != y.target_key)
      return false;
  }
  return true;
}

std::uint32_t add_locked(State &s, const checksync_type_desc *desc) {
  auto d = s.by_desc.find(desc);
  if (d != s.by_desc.end())
    return d->second;
  Type t = type_from_desc(*desc);
  auto k = s.by_key.find(t.key);
  std::uint32_t index;
  if (k != s.by_key.end()) {
    index = k->second;
    if (!same_layout(s.types[index], t))
      fatal("persistent type " + t.name +
            " is registered twice with different layouts (ODR violation: "
            "rebuild every translation unit with the same definition)");
    // A unit that could evaluate a default member initialiser the first one
    // registered could not (evolve.h) completes it.
    Type &known = s.types[index];
    for (size_t i = 0; i < t.fields.size(); ++i)
      if ((t.fields[i].flags & CHECKSYNC_FIELD_DEFAULT_CONSTANT) &&
          !(known.fields[i].flags & CHECKSYNC_FIELD_DEFAULT_CONSTANT)) {
        known.fields[i].flags |= t.fields[i].flags;
        known.fields[i].default_value = t.fields[i].default_value;
        s.snapshot.reset();
      }
  } else {
    index = std::uint32_t(s.types.size());
    if (index >= kMaxTypes)
      fatal("too many persistent types");
    type_sizes[index].store(t.size, std::memory_order_relaxed);
    s.types.push_back(std::move(t));
    s.by_key.emplace(s.types.back().key, index);
    s.snapshot.reset();
  }
  s.by_desc.emplace(desc, index);
  return index;
}

} // namespace

Field field_from_desc(const checksync_field_desc &d) {
  Field f;
  f.name = d.name ? d.name : "";
  f.offset = d.offset;
  f.kind = d.kind;
  f.elem_size = d.elem_size;
  f.count = d.count;
  f.target_key = d.target ? d.target : "";
  f.codec = static_cast<const codec::Entry *>(d.codec);
  if (d.renamed_from)
    f.renamed_from = split_renamed_from(d.renamed_from);
  f.flags = d.flags;
  if (d.default_value)
    f.default_value.assign(d.default_value, d.default_size);
  return f;
}

Type type_from_desc(const checksync_type_desc &d) {
  Type t;
  t.key = d.key;
  t.name = d.name ? d.name : d.key;
  t.size = d.size;
  t.align = d.align ? d.align : 1;
  for (std::uint64_t i = 0; i < d.num_fields; ++i)
    t.fields.push_back(field_from_desc(d.fields[i]));
  for (std::uint64_t i = 0; i < d.num_inits; ++i)
    t.inits.push_back(field_from_desc(d.inits[i]));
  for (std::uint64_t i = 0; i < d.num_vptrs; ++i)
    t.vptrs.push_back({d.vptrs[i].offset, d.vptrs[i].value});
  if (d.renamed_from)
    t.renamed_from = split_renamed_from(d.renamed_from);
  return t;
}

std::uint32_t registry_index_of(const checksync_type_desc *desc) {
  // One-entry cache per thread: allocation loops usually repeat one type.
  thread_local const checksync_type_desc *last_desc = nullptr;
  thread_local std::uint32_t last_index = 0;
  if (desc == last_desc)
    return last_index;
  State &s = state();
  std::lock_guard lock(s.mu);
  last_index = add_locked(s, desc);
  last_desc = desc;
  return last_index;
}

std::uint64_t registry_type_size(std::uint32_t index) noexcept {
  return index < kMaxTypes ? type_sizes[index].load(std::memory_order_relaxed) : 0;
}

const Snapshot &registry_snapshot() { return *registry_snapshot_shared(); }

std::shared_ptr<const Snapshot> registry_snapshot_shared() {
  State &s = state();
  std::lock_guard lock(s.mu);
  if (!s.snapshot) {
    auto snap = std::make_shared<Snapshot>();
    snap->types.assign(s.types.begin(), s.types.end());
    snap->roots = s.roots;
    resolve_targets(snap->types, &snap->roots); // throws Error
    find_node_holders(snap->types);
    for (std::uint32_t i = 0; i < snap->types.size(); ++i)
      snap->by_key.emplace(snap->types[i].key, i);
    s.snapshot = std::move(snap);
  }
  return s.snapshot;
}

std::vector<std::string> registry_units_without_plugin() {
  State &s = state();
  std::lock_guard lock(s.mu);
  return s.units_without_plugin;
}

} // namespace checksync::detail

extern "C" int checksync_rt_tu_without_plugin(const char *file) {
  using namespace checksync::detail;
  State &s = state();
  std::lock_guard lock(s.mu);
  s.units_without_plugin.emplace_back(file ? file : "?");
  return 1;
}

extern "C" void checksync_rt_register_module(const checksync_module_desc *m) {
  using namespace checksync::detail;
  if (m->abi_version != CHECKSYNC_ABI_VERSION)
    fatal("a translation unit was compiled for runtime ABI " +
          std::to_string(m->abi_version) + ", this runtime speaks " +
          std::to_string(CHECKSYNC_ABI_VERSION) + "; rebuild with matching CheckSync");
  State &s = state();
  std::lock_guard lock(s.mu);
  for (std::uint64_t i = 0; i < m->num_types; ++i)
    add_locked(s, &m->types[i]);
  for (std::uint64_t i = 0; i < m->num_roots; ++i) {
    const checksync_root_desc &rd = m->roots[i];
    Root r;
    r.address = rd.address;
    r.field = field_from_desc(rd.field);
    r.name = r.field.name;
    bool dup = false;
    for (auto &o : s.roots)
      if (o.name == r.name) {
        if (o.address != r.address)
          fatal("root " + r.name + " is defined twice");
        dup = true;
      }
    if (!dup)
      s.roots.push_back(std::move(r));
  }
  s.snapshot.reset();
}
