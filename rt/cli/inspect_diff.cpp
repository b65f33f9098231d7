// inspect_diff.cpp - `checksync-rt inspect DIR --diff E1 E2`: which objects
// were added, removed or changed between two epochs a directory holds, and
// which fields of the changed ones; roots likewise.
#include "commands.h"
#include "inspect_view.h"

#include "store/chain.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <sstream>

namespace checksync::cli {
namespace {
using namespace checksync::detail;
using json = nlohmann::ordered_json;

// Bit-exact equality of decoded values (msgpack-c's == says NaN != NaN).
bool same(const msgpack::object &a, const msgpack::object &b) {
  if (a.type != b.type)
    return false;
  switch (a.type) {
  case msgpack::type::FLOAT32:
  case msgpack::type::FLOAT64:
    return std::memcmp(&a.via.f64, &b.via.f64, sizeof a.via.f64) == 0;
  case msgpack::type::ARRAY:
    if (a.via.array.size != b.via.array.size)
      return false;
    for (std::uint32_t i = 0; i < a.via.array.size; ++i)
      if (!same(a.via.array.ptr[i], b.via.array.ptr[i]))
        return false;
    return true;
  case msgpack::type::MAP:
    if (a.via.map.size != b.via.map.size)
      return false;
    for (std::uint32_t i = 0; i < a.via.map.size; ++i)
      if (!same(a.via.map.ptr[i].key, b.via.map.ptr[i].key) ||
          !same(a.via.map.ptr[i].val, b.via.map.ptr[i].val))
        return false;
    return true;
  default:
    return a == b;
  }
}

struct Change {
  std::uint64_t id;
  std::string type;
  std::vector<std::string> fields; // changed: the fields that differ
};

// Fields of object i of `a` and j of `b` (same type) whose values differ.
std::vector<std::string> changed_fields(const Image &a, const DecodedObject &x,
                                        const DecodedObject &y) {
  const Type &t = a.types[x.type];
  std::vector<std::string> out;
  std::size_t nf = t.fields.size();
  for (std::size_t k = 0; k < nf; ++k)
    for (std::uint64_t e = 0; e < x.count; ++e)
      if (!same(x.values[e * nf + k], y.values[e * nf + k])) {
        out.push_back(t.fields[k].name);
        break;
      }
  return out;
}

} // namespace

int run_inspect_diff(const InspectOptions &opts) {
  std::unique_ptr<Image> a, b;
  try {
    a = load_chain_at(opts.path, opts.diff[0]);
    b = load_chain_at(opts.path, opts.diff[1]);
  } catch (const Error &e) {
    std::fprintf(stderr, "checksync-rt inspect: %s\n", e.what());
    return 2;
  }
  std::vector<Change> added, removed, changed;
  std::size_t i = 0, j = 0;
  auto type_of = [](const Image &img, const DecodedObject &o) { return img.types[o.type].name; };
  while (i < a->objects.size() || j < b->objects.size()) {
    const DecodedObject *x = i < a->objects.size() ? &a->objects[i] : nullptr;
    const DecodedObject *y = j < b->objects.size() ? &b->objects[j] : nullptr;
    if (x && (!y || x->id < y->id)) {
      removed.push_back({x->id, type_of(*a, *x), {}});
      ++i;
    } else if (y && (!x || y->id < x->id)) {
      added.push_back({y->id, type_of(*b, *y), {}});
      ++j;
    } else {
      bool same_shape = a->types[x->type].key == b->types[y->type].key && x->count == y->count &&
                        a->types[x->type].fields.size() == b->types[y->type].fields.size();
      if (!same_shape)
        changed.push_back({y->id, type_of(*b, *y), {"(type or length)"}});
      else if (auto f = changed_fields(*a, *x, *y); !f.empty())
        changed.push_back({y->id, type_of(*b, *y), std::move(f)});
      ++i;
      ++j;
    }
  }
  std::vector<std::string> roots;
  for (const auto &r : b->roots) {
    const DecodedRoot *old = nullptr;
    for (const auto &q : a->roots)
      if (q.root.name == r.root.name)
        old = &q;
    if (!old || !same(*old->value, *r.value))
      roots.push_back(r.root.name);
  }

  if (opts.json) {
    auto list = [](const std::vector<Change> &v, bool with_fields) {
      json out = json::array();
      for (const Change &c : v) {
        json e{{"id", c.id}, {"type", c.type}};
        if (with_fields)
          e["fields"] = c.fields;
        out.push_back(std::move(e));
      }
      return out;
    };
    json doc{{"from", opts.diff[0]},     {"to", opts.diff[1]},
             {"added", list(added, false)}, {"removed", list(removed, false)},
             {"changed", list(changed, true)}, {"roots_changed", roots}};
    std::fputs((doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n").c_str(), stdout);
    return 0;
  }
  std::ostringstream os;
  os << "epoch " << opts.diff[0] << " -> " << opts.diff[1] << ": " << added.size()
     << " objects added, " << removed.size() << " removed, " << changed.size() << " changed ("
     << b->objects.size() << " objects at epoch " << opts.diff[1] << ")\n";
  os << "roots changed:";
  for (const auto &r : roots)
    os << " " << r;
  os << (roots.empty() ? " none\n" : "\n");
  auto show = [&](const char *mark, const std::vector<Change> &v) {
    for (std::size_t k = 0; k < v.size() && k < opts.limit; ++k) {
      os << "  " << mark << " #" << v[k].id << " " << v[k].type;
      for (std::size_t f = 0; f < v[k].fields.size(); ++f)
        os << (f ? ", " : ": ") << v[k].fields[f];
      os << "\n";
    }
    if (v.size() > opts.limit)
      os << "  " << mark << " ... " << v.size() - opts.limit << " more (--limit)\n";
  };
  show("+", added);
  show("-", removed);
  show("~", changed);
  std::fputs(os.str().c_str(), stdout);
  return 0;
}

} // namespace checksync::cli
