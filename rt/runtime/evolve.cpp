// evolve.cpp - see evolve.h.
#include "runtime/evolve.h"

#include <algorithm>
#include <cctype>
#include <unordered_map>

namespace checksync::detail {
namespace {

const char *const kPrefix = "checkpoint does not match this program: ";

// "int64 at offset 0", "ref Node at offset 8", "std::string at offset 16".
std::string shape(const Field &f, const std::unordered_map<std::string, std::string> &names) {
  std::string target = f.target_key;
  if (auto it = names.find(f.target_key); it != names.end())
    target = it->second;
  std::string s;
  if (f.kind == CHECKSYNC_FIELD_CODEC)
    s = f.target_key;
  else if (f.kind == CHECKSYNC_FIELD_REF || f.kind == CHECKSYNC_FIELD_RECORD)
    s = std::string(kind_name(f.kind)) + " " + target;
  else
    s = kind_name(f.kind) + std::to_string(f.elem_size * 8);
  if (f.count != 1)
    s += "[" + std::to_string(f.count) + "]";
  return s + " at offset " + std::to_string(f.offset);
}

// The same value shape, wherever it lies (offsets may differ).
bool same_shape(const Field &a, const Field &b) {
  return a.kind == b.kind && a.elem_size == b.elem_size && a.count == b.count &&
         a.target_key == b.target_key;
}

bool arithmetic(const Field &f) {
  return f.kind == CHECKSYNC_FIELD_INT || f.kind == CHECKSYNC_FIELD_UINT ||
         f.kind == CHECKSYNC_FIELD_FLOAT;
}

// Single scalars that widen without loss.
bool widens(const Field &ck, const Field &pg) {
  if (ck.count != 1 || pg.count != 1 || pg.elem_size <= ck.elem_size)
    return false;
  if (ck.kind == CHECKSYNC_FIELD_INT)
    return pg.kind == CHECKSYNC_FIELD_INT;
  if (ck.kind == CHECKSYNC_FIELD_UINT)
    return pg.kind == CHECKSYNC_FIELD_UINT || pg.kind == CHECKSYNC_FIELD_INT;
  return ck.kind == CHECKSYNC_FIELD_FLOAT && pg.kind == CHECKSYNC_FIELD_FLOAT;
}

// What an added field starts as (codec_rt.h value_init).
std::string how_added(const Field &f) {
  bool has = f.flags & CHECKSYNC_FIELD_HAS_INITIALISER;
  if (f.flags & CHECKSYNC_FIELD_DEFAULT_CONSTANT)
    return "its initialiser";
  if (f.kind == CHECKSYNC_FIELD_RECORD)
    return has ? "a fresh record: its fields' initialisers; its own initialiser is not a "
                 "constant"
               : "a fresh record: its fields' initialisers";
  return has ? "value-initialised: its initialiser is not a constant" : "value-initialised";
}

// `spelling` with every whole qualified name `from` replaced by `to`.
std::string replace_name(std::string spelling, const std::string &from, const std::string &to) {
  auto ident = [](char c) { return std::isalnum((unsigned char)c) || c == '_' || c == ':'; };
  for (std::size_t at = spelling.find(from); at != std::string::npos;
       at = spelling.find(from, at)) {
    std::size_t end = at + from.size();
    if ((at == 0 || !ident(spelling[at - 1])) &&
        (end == spelling.size() || !ident(spelling[end]))) {
      spelling.replace(at, from.size(), to);
      at += to.size();
    } else {
      at = end;
    }
  }
  return spelling;
}

struct Planner {
  const Image &img;
  const std::vector<Type> &types;
  const std::vector<Root> &roots;
  const PlanOptions &opts;
  std::unordered_map<std::string, std::string> names; // key -> C++ name
  std::unordered_map<std::string, std::size_t> ck_by_key, pg_by_key;
  // Types the program renamed ([[checksync::renamed_from]] on the class):
  // checkpoint key -> program key, and qualified name -> new name.
  std::unordered_map<std::string, std::string> renamed_keys;
  std::vector<std::pair<std::string, std::string>> renamed_names;

  // The checkpoint's field as this program would spell it (renamed types).
  Field in_program_terms(Field f) const {
    if (f.kind == CHECKSYNC_FIELD_REF || f.kind == CHECKSYNC_FIELD_RECORD) {
      if (auto it = renamed_keys.find(f.target_key); it != renamed_keys.end())
        f.target_key = it->second;
    } else if (f.kind == CHECKSYNC_FIELD_CODEC) {
      for (const auto &[from, to] : renamed_names)
        f.target_key = replace_name(f.target_key, from, to);
    }
    return f;
  }

  // Empty if the checkpoint's value fits the program's field; a note for the
  // log if it is converted; throws otherwise.
  std::string carry(const Field &ck_as_written, const Field &pg, const std::string &where) {
    const Field ck = in_program_terms(ck_as_written);
    // A record by value is decoded by its own type's plan (field by field,
    // by name), which plan_schema checks like any type's.
    if (ck.kind == CHECKSYNC_FIELD_RECORD && pg.kind == CHECKSYNC_FIELD_RECORD &&
        ck.target_key == pg.target_key && ck.count == pg.count)
      return "";
    if (same_shape(ck, pg))
      return "";
    std::string conversion = "'" + ck.name + "' " + kind_name(ck.kind) +
                             std::to_string(ck.elem_size * 8) + " -> " + kind_name(pg.kind) +
                             std::to_string(pg.elem_size * 8);
    if (widens(ck, pg))
      return conversion;
    bool lossy = arithmetic(ck) && arithmetic(pg) && ck.count == 1 && pg.count == 1;
    if (lossy && (opts.allow_lossy || (pg.flags & CHECKSYNC_FIELD_ALLOW_LOSSY)))
      return conversion + " (lossy)";
    throw Error(std::string(kPrefix) + where + " is " + shape(ck, names) +
                " in the checkpoint but " + shape(pg, names) + " in the program" +
                (lossy ? " (narrowing or another arithmetic kind: allow it with "
                         "--allow-lossy or [[checksync::allow_lossy]] on the field)"
                       : " (resume converts only scalars that widen)"));
  }

  std::vector<std::int64_t> plan_type(const Type &ck, const Type &pg, std::string &change) {
    std::vector<std::int64_t> src(pg.fields.size(), -1);
    std::vector<std::string> added, dropped, converted, renamed;
    std::vector<bool> used(ck.fields.size(), false);
    auto ck_field = [&](const std::string &name) -> std::int64_t {
      for (size_t j = 0; j < ck.fields.size(); ++j)
        if (ck.fields[j].name == name)
          return std::int64_t(j);
      return -1;
    };
    auto pg_has = [&](const std::string &name) {
      for (const Field &g : pg.fields)
        if (g.name == name)
          return true;
      return false;
    };
    for (size_t k = 0; k < pg.fields.size(); ++k) {
      const Field &g = pg.fields[k];
      std::int64_t j = ck_field(g.name);
      // Renamed: a former name the checkpoint has and no current field takes.
      for (size_t r = 0; j < 0 && r < g.renamed_from.size(); ++r)
        if (!pg_has(g.renamed_from[r]) && (j = ck_field(g.renamed_from[r])) >= 0)
          renamed.push_back("'" + g.renamed_from[r] + "' -> '" + g.name + "'");
      if (j >= 0 && used[size_t(j)])
        throw Error(std::string(kPrefix) + "type " + pg.name + ": field '" +
                    ck.fields[size_t(j)].name + "' of the checkpoint would go to two fields");
      if (j < 0) {
        added.push_back("'" + g.name + "' (" + how_added(g) + ")");
        continue;
      }
      src[k] = j;
      used[size_t(j)] = true;
      std::string note =
          carry(ck.fields[size_t(j)], g, "type " + pg.name + ": field '" + g.name + "'");
      if (!note.empty())
        converted.push_back(note);
    }
    for (size_t j = 0; j < ck.fields.size(); ++j)
      if (!used[j])
        dropped.push_back("'" + ck.fields[j].name + "'");
    auto list = [](const char *what, const std::vector<std::string> &v) {
      std::string s;
      for (size_t i = 0; i < v.size(); ++i)
        s += (i ? ", " : std::string(what)) + v[i];
      return s;
    };
    std::string parts;
    for (std::string p : {list("renamed ", renamed), list("added ", added),
                          list("dropped ", dropped), list("converted ", converted)})
      if (!p.empty())
        parts += (parts.empty() ? "" : "; ") + p;
    std::string type = ck.name == pg.name ? pg.name : ck.name + " -> " + pg.name;
    if (ck.name != pg.name)
      parts = "renamed type" + (parts.empty() ? "" : "; " + parts);
    if (!parts.empty())
      change = "type " + type + ": " + parts;
    return src;
  }

  void plan_roots(SchemaPlan &plan) {
    std::unordered_map<std::string, std::size_t> ck_roots;
    for (std::size_t i = 0; i < img.roots.size(); ++i)
      if (!ck_roots.emplace(img.roots[i].root.name, i).second)
        throw Error("corrupt checkpoint: root " + img.roots[i].root.name + " appears twice");
    std::vector<std::string> added, dropped, converted;
    for (const Root &r : roots) {
      auto it = ck_roots.find(r.name);
      if (it == ck_roots.end()) {
        plan.root_src.push_back(-1);
        added.push_back(r.name);
        continue;
      }
      plan.root_src.push_back(std::int64_t(it->second));
      Field a = img.roots[it->second].root.field, b = r.field;
      a.offset = b.offset = 0;
      a.name = b.name = r.name;
      std::string note = carry(a, b, "root " + r.name);
      if (!note.empty())
        converted.push_back(note);
      ck_roots.erase(it);
    }
    for (const DecodedRoot &cr : img.roots) // in the checkpoint's order
      if (ck_roots.count(cr.root.name))
        dropped.push_back(cr.root.name);
    if (!added.empty())
      plan.changes.push_back("roots added (initial values kept): " + join(added));
    if (!dropped.empty())
      plan.changes.push_back("roots dropped: " + join(dropped));
    if (!converted.empty())
      plan.changes.push_back("roots converted: " + join(converted));
  }

  static std::string join(const std::vector<std::string> &v) {
    std::string s;
    for (const std::string &x : v)
      s += (s.empty() ? "" : ", ") + x;
    return s;
  }
};

} // namespace

SchemaPlan plan_schema(const Image &img, const std::vector<Type> &types,
                       const std::vector<Root> &roots, const PlanOptions &opts) {
  Planner p{img, types, roots, opts, {}, {}, {}, {}, {}};
  for (std::size_t i = 0; i < img.types.size(); ++i) {
    p.names.emplace(img.types[i].key, img.types[i].name);
    p.ck_by_key.emplace(img.types[i].key, i);
  }
  for (std::size_t i = 0; i < types.size(); ++i) {
    p.names[types[i].key] = types[i].name;
    p.pg_by_key.emplace(types[i].key, i);
  }
  SchemaPlan plan;
  plan.type_map.assign(img.types.size(), -1);
  plan.field_src.resize(img.types.size());
  std::vector<std::uint64_t> objects_of(img.types.size(), 0);
  for (std::size_t i = 0; i < img.objects.size(); ++i)
    if (img.reachable.empty() || img.reachable[i])
      ++objects_of[img.objects[i].type];
  // Renamed types: a program type whose former name is a checkpoint type's
  // name, when the checkpoint has no type of the program type's own key.
  std::unordered_map<std::string, std::size_t> renamed_into; // program key -> ck index
  for (std::size_t i = 0; i < img.types.size(); ++i) {
    const Type &ck = img.types[i];
    if (p.pg_by_key.count(ck.key))
      continue;
    for (const Type &pg : types) {
      if (p.ck_by_key.count(pg.key))
        continue;
      if (std::find(pg.renamed_from.begin(), pg.renamed_from.end(), ck.name) ==
          pg.renamed_from.end())
        continue;
      if (auto [at, fresh] = renamed_into.emplace(pg.key, i); !fresh && at->second != i)
        throw Error(std::string(kPrefix) + "type " + pg.name +
                    " was renamed from two types of the checkpoint: " + img.types[at->second].name +
                    " and " + ck.name);
      if (auto [at, fresh] = p.renamed_keys.emplace(ck.key, pg.key); !fresh)
        throw Error(std::string(kPrefix) + "types " + p.names[at->second] + " and " + pg.name +
                    " both say they were renamed from the checkpoint's type " + ck.name);
      p.renamed_names.emplace_back(ck.name, pg.name);
    }
  }
  for (std::size_t i = 0; i < img.types.size(); ++i) {
    const Type &ck = img.types[i];
    auto it = p.pg_by_key.find(ck.key);
    if (auto r = p.renamed_keys.find(ck.key); r != p.renamed_keys.end())
      it = p.pg_by_key.find(r->second);
    if (it == p.pg_by_key.end()) {
      if (opts.objects_unknown) {
        plan.changes.push_back("type " + ck.name +
                               ": removed (a resume is refused if the checkpoint holds "
                               "reachable objects of it)");
        continue;
      }
      if (objects_of[i])
        throw Error(std::string(kPrefix) + "type " + ck.name +
                    " is not a persistent type of this program, and the checkpoint holds " +
                    std::to_string(objects_of[i]) + " reachable object(s) of it");
      plan.changes.push_back("type " + ck.name + ": removed (no reachable object had it)");
      continue;
    }
    plan.type_map[i] = std::int64_t(it->second);
    std::string change;
    plan.field_src[i] = p.plan_type(ck, types[it->second], change);
    if (!change.empty())
      plan.changes.push_back(change);
  }
  p.plan_roots(plan);
  return plan;
}

} // namespace checksync::detail
