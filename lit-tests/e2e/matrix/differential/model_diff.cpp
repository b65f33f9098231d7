// Randomised differential test of the incremental path. A model (plain C++,
// not persistent) and the persistent heap receive the same random operations
// each round: allocate (linked, or left unreachable for rounds), link
// long-unreachable objects back in, unlink, delete (half the time leaving
// dangling pointers in unreachable objects, cleared before such an object is
// linked again), store special doubles and
// floats, strings with NULs and invalid UTF-8, vectors (up to 10k elements),
// maps. The round loop, checkpoints and kills are matrix.h's. After every
// round the live heap is compared with the model (a program bug shows here,
// before any checkpoint is involved); after a resume the model is rebuilt by
// replaying rounds 1..R and the restored heap is compared with it: any
// difference is printed as `error: ...` with the object, field and values.
#include "../matrix.h"

#include <deque>
#include <map>
#include <string>
#include <vector>

struct [[checksync::persistent]] DNode {
  std::uint64_t id;
  double d;
  float f;
  std::string s;
  std::vector<double> vd;
  std::map<std::string, double> md;
  DNode *out[3];
};

constexpr int kRoots = 4;
[[checksync::root]] DNode *droots[kRoots] = {};
[[checksync::root]] double droot_d = 0;
[[checksync::root]] std::string droot_s;

namespace {

struct MObj {
  bool alive = true;
  double d = 0;
  float f = 0;
  std::string s;
  std::vector<double> vd;
  std::map<std::string, double> md;
  std::int64_t out[3] = {-1, -1, -1};
};

constexpr std::int64_t kDangling = -2; // a ref to a deleted object, held by garbage

struct Model {
  std::vector<MObj> objs;
  std::int64_t roots[kRoots] = {-1, -1, -1, -1};
  double root_d = 0;
  std::string root_s;
};

Model model;
std::vector<DNode *> heap_of; // transient: model id -> heap object (null when dead)

std::string key(mx::Rng &rng) {
  std::string k = rng.bytes(6);
  if (rng.chance(30))
    k = std::string(1, char('a' + rng.below(4)));
  return k;
}

// One round of operations on the model, mirrored on the heap when `heap`.
// Every choice follows from rng and the model, never from the heap.
void apply(mx::Rng &rng, bool heap) {
  Model &m = model;
  auto alive_ids = [&] {
    std::vector<std::int64_t> ids;
    for (std::size_t i = 0; i < m.objs.size(); ++i)
      if (m.objs[i].alive)
        ids.push_back(std::int64_t(i));
    return ids;
  };
  // A slot: a root (-1, r) or an object's out[j] (id, j).
  auto set_slot = [&](std::int64_t owner, int j, std::int64_t target) {
    if (owner < 0) {
      m.roots[j] = target;
      if (heap)
        droots[j] = target < 0 ? nullptr : heap_of[std::size_t(target)];
    } else {
      m.objs[std::size_t(owner)].out[j] = target;
      if (heap)
        heap_of[std::size_t(owner)]->out[j] = target < 0 ? nullptr : heap_of[std::size_t(target)];
    }
  };
  auto reachable = [&] {
    std::vector<bool> seen(m.objs.size());
    std::vector<std::int64_t> work;
    for (std::int64_t r : m.roots)
      if (r >= 0 && !seen[std::size_t(r)]) {
        seen[std::size_t(r)] = true;
        work.push_back(r);
      }
    while (!work.empty()) {
      std::int64_t o = work.back();
      work.pop_back();
      for (std::int64_t t : m.objs[std::size_t(o)].out)
        if (t >= 0 && !seen[std::size_t(t)]) {
          seen[std::size_t(t)] = true;
          work.push_back(t);
        }
    }
    return seen;
  };
  // Before anything links `target`, the dangling refs its closure holds are
  // cleared (a reachable dangling pointer would be a program error).
  auto sanitize = [&](std::int64_t target) {
    std::vector<bool> seen(m.objs.size());
    std::vector<std::int64_t> work{target};
    seen[std::size_t(target)] = true;
    while (!work.empty()) {
      std::int64_t o = work.back();
      work.pop_back();
      for (int j = 0; j < 3; ++j) {
        std::int64_t t = m.objs[std::size_t(o)].out[j];
        if (t == kDangling)
          set_slot(o, j, -1);
        else if (t >= 0 && !seen[std::size_t(t)]) {
          seen[std::size_t(t)] = true;
          work.push_back(t);
        }
      }
    }
  };
  auto random_slot = [&](std::vector<std::int64_t> &ids, std::int64_t &owner, int &j) {
    if (ids.empty() || rng.chance(30)) {
      owner = -1;
      j = int(rng.below(kRoots));
    } else {
      owner = ids[rng.below(ids.size())];
      j = int(rng.below(3));
    }
  };
  for (int op = 1 + int(rng.below(20)); op > 0; --op) {
    std::vector<std::int64_t> ids = alive_ids();
    std::uint64_t what = ids.empty() ? 0 : rng.below(100);
    std::int64_t target = ids.empty() ? -1 : ids[rng.below(ids.size())];
    if (what < 25) { // allocate; a third stay unreachable until a later link
      MObj o;
      o.d = rng.special_double();
      o.f = rng.special_float();
      o.s = rng.bytes(40);
      std::int64_t id = std::int64_t(m.objs.size());
      m.objs.push_back(o);
      if (heap) {
        DNode *n = new DNode{std::uint64_t(id), o.d, o.f, o.s, {}, {}, {}};
        heap_of.push_back(n);
      }
      if (rng.chance(65)) {
        std::int64_t owner;
        int j;
        random_slot(ids, owner, j);
        set_slot(owner, j, id);
      }
    } else if (what < 45) { // link any live object (maybe long unreachable) somewhere
      std::int64_t owner;
      int j;
      random_slot(ids, owner, j);
      sanitize(target);
      set_slot(owner, j, target);
    } else if (what < 51) { // unlink
      std::int64_t owner;
      int j;
      random_slot(ids, owner, j);
      set_slot(owner, j, -1);
    } else if (what < 55) { // delete: every reachable ref to it cleared first
      // Half the time unreachable objects keep theirs: a dangling pointer in
      // garbage (legal C++; kDangling in the model, cleared before linking).
      bool leave_garbage = rng.chance(50);
      std::vector<bool> reach = reachable();
      for (int r = 0; r < kRoots; ++r)
        if (m.roots[r] == target)
          set_slot(-1, r, -1);
      for (std::int64_t o : ids)
        for (int j = 0; j < 3; ++j)
          if (m.objs[std::size_t(o)].out[j] == target) {
            if (leave_garbage && !reach[std::size_t(o)])
              m.objs[std::size_t(o)].out[j] = kDangling;
            else
              set_slot(o, j, -1);
          }
      m.objs[std::size_t(target)].alive = false;
      if (heap) {
        delete heap_of[std::size_t(target)];
        heap_of[std::size_t(target)] = nullptr;
      }
    } else {
      MObj &o = m.objs[std::size_t(target)];
      DNode *n = heap ? heap_of[std::size_t(target)] : nullptr;
      switch (what % 9) {
      case 0: o.d = rng.special_double(); if (n) n->d = o.d; break;
      case 1: o.f = rng.special_float(); if (n) n->f = o.f; break;
      case 2: o.s = rng.bytes(rng.chance(10) ? 5000 : 60); if (n) n->s = o.s; break;
      case 3: { double v = rng.special_double(); o.vd.push_back(v); if (n) n->vd.push_back(v); break; }
      case 4: // a large vector, or cleared
        if (rng.chance(70)) {
          std::size_t len = 10000, base = rng.below(100);
          o.vd.resize(len);
          if (n) n->vd.resize(len);
          for (std::size_t i = 0; i < len; ++i) {
            double v = mx::f64(mx::kSpecialDoubles[(base + i) % std::size(mx::kSpecialDoubles)]);
            o.vd[i] = v;
            if (n) n->vd[i] = v;
          }
        } else {
          o.vd.clear();
          if (n) n->vd.clear();
        }
        break;
      case 5:
        if (!o.vd.empty()) {
          std::size_t i = rng.below(o.vd.size());
          double v = rng.special_double();
          o.vd[i] = v;
          if (n) n->vd[i] = v;
        }
        break;
      case 6: { std::string k = key(rng); double v = rng.special_double(); o.md[k] = v; if (n) n->md[k] = v; break; }
      case 7:
        if (!o.md.empty()) {
          std::string k = o.md.begin()->first;
          o.md.erase(k);
          if (n) n->md.erase(k);
        }
        break;
      default:
        m.root_d = rng.special_double();
        m.root_s = rng.bytes(30);
        if (heap) {
          droot_d = m.root_d;
          droot_s = m.root_s;
        }
      }
    }
  }
}

std::string hex(const std::string &s) {
  static const char *d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s.substr(0, 24)) {
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out + (s.size() > 24 ? "..." : "") + " (" + std::to_string(s.size()) + " bytes)";
}

// Compares the heap reachable from the roots with the model; the first
// difference, or "". Also fills `found` (model id -> heap object).
std::string compare(std::vector<DNode *> &found) {
  const Model &m = model;
  found.assign(m.objs.size(), nullptr);
  std::deque<std::pair<const DNode *, std::int64_t>> work;
  char buf[512];
  auto visit = [&](const DNode *h, std::int64_t want, const std::string &where) -> std::string {
    std::int64_t got = h ? std::int64_t(h->id) : -1;
    if (got != want) {
      std::snprintf(buf, sizeof buf, "%s refers to object %lld, the model to %lld", where.c_str(),
                    (long long)got, (long long)want);
      return buf;
    }
    if (!h)
      return "";
    if (std::size_t(got) >= m.objs.size() || !m.objs[std::size_t(got)].alive)
      return where + ": object " + std::to_string(got) + " is not live in the model";
    if (found[std::size_t(got)] && found[std::size_t(got)] != h)
      return where + ": two heap objects carry id " + std::to_string(got);
    if (!found[std::size_t(got)]) {
      found[std::size_t(got)] = const_cast<DNode *>(h);
      work.push_back({h, got});
    }
    return "";
  };
  for (int r = 0; r < kRoots; ++r)
    if (auto e = visit(droots[r], m.roots[r], "root droots[" + std::to_string(r) + "]"); !e.empty())
      return e;
  if (mx::bits(droot_d) != mx::bits(m.root_d)) {
    std::snprintf(buf, sizeof buf, "root droot_d bits %016llx, model %016llx",
                  (unsigned long long)mx::bits(droot_d), (unsigned long long)mx::bits(m.root_d));
    return buf;
  }
  if (droot_s != m.root_s)
    return "root droot_s " + hex(droot_s) + ", model " + hex(m.root_s);
  while (!work.empty()) {
    auto [h, id] = work.front();
    work.pop_front();
    const MObj &o = m.objs[std::size_t(id)];
    std::string at = "object " + std::to_string(id);
    if (mx::bits(h->d) != mx::bits(o.d)) {
      std::snprintf(buf, sizeof buf, "%s field d bits %016llx, model %016llx", at.c_str(),
                    (unsigned long long)mx::bits(h->d), (unsigned long long)mx::bits(o.d));
      return buf;
    }
    if (mx::bits(h->f) != mx::bits(o.f)) {
      std::snprintf(buf, sizeof buf, "%s field f bits %08x, model %08x", at.c_str(),
                    mx::bits(h->f), mx::bits(o.f));
      return buf;
    }
    if (h->s != o.s)
      return at + " field s " + hex(h->s) + ", model " + hex(o.s);
    if (h->vd.size() != o.vd.size())
      return at + " field vd has " + std::to_string(h->vd.size()) + " elements, model " +
             std::to_string(o.vd.size());
    for (std::size_t i = 0; i < o.vd.size(); ++i)
      if (mx::bits(h->vd[i]) != mx::bits(o.vd[i])) {
        std::snprintf(buf, sizeof buf, "%s field vd[%zu] bits %016llx, model %016llx", at.c_str(),
                      i, (unsigned long long)mx::bits(h->vd[i]),
                      (unsigned long long)mx::bits(o.vd[i]));
        return buf;
      }
    if (h->md.size() != o.md.size())
      return at + " field md has " + std::to_string(h->md.size()) + " entries, model " +
             std::to_string(o.md.size());
    for (auto a = h->md.begin(), b = o.md.begin(); b != o.md.end(); ++a, ++b)
      if (a->first != b->first || mx::bits(a->second) != mx::bits(b->second)) {
        std::snprintf(buf, sizeof buf, "%s field md: entry %s = %016llx, model %s = %016llx",
                      at.c_str(), hex(a->first).c_str(), (unsigned long long)mx::bits(a->second),
                      hex(b->first).c_str(), (unsigned long long)mx::bits(b->second));
        return buf;
      }
    for (int j = 0; j < 3; ++j)
      if (auto e = visit(h->out[j], o.out[j], at + " field out[" + std::to_string(j) + "]");
          !e.empty())
        return e;
  }
  return "";
}

} // namespace

void mx_round(std::uint64_t, std::uint64_t round, mx::Rng &rng) {
  apply(rng, true);
  // The live heap is the model (else the program, not the runtime, is wrong).
  std::vector<DNode *> found;
  if (std::string e = compare(found); !e.empty()) {
    std::printf("error: round %llu: the live heap differs from the model: %s\n",
                (unsigned long long)round, e.c_str());
    std::fflush(stdout);
    std::exit(9);
  }
}

void mx_resumed(std::uint64_t seed, std::uint64_t round) {
  model = Model{};
  for (std::uint64_t r = 1; r <= round; ++r) {
    mx::Rng rng(seed, r);
    apply(rng, false);
  }
  std::vector<DNode *> found;
  if (std::string e = compare(found); !e.empty()) {
    std::printf("error: resumed at round %llu: the restored heap differs from the model "
                "(seed %llu): %s\n",
                (unsigned long long)round, (unsigned long long)seed, e.c_str());
    std::fflush(stdout);
    std::exit(10);
  }
  // Objects alive in the model but unreachable were not checkpointed:
  // re-create them as the model has them, then their refs.
  heap_of = found;
  for (std::size_t i = 0; i < model.objs.size(); ++i) {
    const MObj &o = model.objs[i];
    if (o.alive && !heap_of[i])
      heap_of[i] = new DNode{i, o.d, o.f, o.s, o.vd, o.md, {}};
  }
  for (std::size_t i = 0; i < model.objs.size(); ++i)
    if (model.objs[i].alive && !found[i])
      for (int j = 0; j < 3; ++j)
        heap_of[i]->out[j] = model.objs[i].out[j] < 0 ? nullptr
                                                      : heap_of[std::size_t(model.objs[i].out[j])];
}

void mx_digest(mx::Digest &d) {
  std::deque<const DNode *> work;
  auto ref = [&](const DNode *n) {
    if (d.ref(n))
      work.push_back(n);
  };
  for (DNode *r : droots)
    ref(r);
  d.f(droot_d);
  d.str(droot_s);
  while (!work.empty()) {
    const DNode *n = work.front();
    work.pop_front();
    d.u(n->id);
    d.f(n->d);
    d.f(n->f);
    d.str(n->s);
    d.u(n->vd.size());
    for (double x : n->vd)
      d.f(x);
    d.u(n->md.size());
    for (auto &[k, v] : n->md) {
      d.str(k);
      d.f(v);
    }
    for (const DNode *o : n->out)
      ref(o);
  }
}
