// restore.cpp - schema check, allocation, decoding and ref swizzling.
#include "runtime/restore.h"

#include "runtime/evolve.h"

#include "format/codec_rt.h"
#include "heap/heap.h"
#include "heap/marker.h"
#include "log/log.h"
#include "settings/options.h"

#include <cstring>
#include <unordered_map>

namespace checksync::detail {

void check_schema(const Image &img, const std::vector<Type> &types,
                  const std::vector<Root> &roots) {
  plan_schema(img, types, roots);
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
                            std::vector<ObjHeader *> *renumbered,
                            std::vector<std::string> *changes) {
  PlanOptions opts;
  opts.allow_lossy = options::flag("CHECKSYNC_ALLOW_LOSSY");
  SchemaPlan plan = plan_schema(img, types, roots, opts);
  for (const std::string &c : plan.changes)
    LOG_INFO("resume across builds: %s", c.c_str());
  if (changes)
    *changes = plan.changes;
  ExactFloats exact;
  std::unordered_map<std::string, std::uint32_t> index;
  for (std::uint32_t i = 0; i < types.size(); ++i)
    index.emplace(types[i].key, i);
  std::vector<std::uint32_t> map(img.types.size());
  for (size_t i = 0; i < img.types.size(); ++i)
    map[i] = std::uint32_t(plan.type_map[i]); // -1 only for types no object has

  RestoreContext cx{img, types, index};
  cx.field_src.resize(types.size());
  cx.ck_type.assign(types.size(), -1);
  for (size_t i = 0; i < img.types.size(); ++i)
    if (plan.type_map[i] >= 0) {
      cx.field_src[size_t(plan.type_map[i])] = plan.field_src[i];
      cx.ck_type[size_t(plan.type_map[i])] = std::int64_t(i);
    }
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
    const std::vector<std::int64_t> &src = plan.field_src[o.type];
    const std::size_t nf = img.types[o.type].fields.size(); // values per element
    const std::uint64_t events = cx.node_events;
    for (std::uint64_t e = 0; e < o.count; ++e)
      for (size_t k = 0; k < t.fields.size(); ++k) {
        const Field &f = t.fields[k];
        char *dst = cx.addr[i] + e * t.size + f.offset;
        if (src[k] < 0)
          value_init(types, f, dst);
        else
          store_value(cx, o.values[e * nf + std::size_t(src[k])], f, dst, /*constructed=*/false);
      }
    if (cx.node_events != events)
      with_nodes.push_back(reinterpret_cast<ObjHeader *>(cx.addr[i]) - 1);
  }

  // Roots last: the program sees either its initial values or the whole state.
  // Roots are live globals: their library values are destroyed and rebuilt.
  std::vector<const Root *> roots_with_nodes;
  for (size_t k = 0; k < roots.size(); ++k) {
    if (plan.root_src[k] < 0)
      continue; // added by this build: keeps its initial value
    const Root &r = roots[k];
    const std::uint64_t events = cx.node_events;
    store_value(cx, *img.roots[size_t(plan.root_src[k])].value, r.field,
                static_cast<char *>(r.address), /*constructed=*/true);
    if (cx.node_events != events)
      roots_with_nodes.push_back(&r);
  }
  for (const auto &[field, n] : cx.clamped)
    LOG_WARN("resume across builds: %llu value(s) of '%s' did not fit its new type: clamped, "
             "rounded or truncated (lossy conversions allowed)",
             (unsigned long long)n, field.c_str());
  if (!with_nodes.empty() || !roots_with_nodes.empty())
    fix_restored_iterators(cx, types, roots_with_nodes, with_nodes, renumbered);
  return img.objects.size() - (dropped ? dropped->size() : 0);
}

} // namespace checksync::detail
