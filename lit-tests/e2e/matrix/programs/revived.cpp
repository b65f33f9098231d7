// Regression shape "revived": objects unreachable for many rounds (across
// compactions, forced full images and resumes) linked back in, and garbage
// with dangling pointers.
//
//  - Pending chains, born each round, held only by a transient vector or by
//    a persistent Pool object that is itself unreachable (held by a transient
//    pointer, written each time a chain is added). A chain waits 1-8 rounds,
//    some are written while unreachable, then it is linked at the list's
//    tail or head, into a root slot (the chain it replaces is deleted), or
//    behind a reachable node's `other`. Some chains point (`other`, by node
//    id) at a reachable node that may be deleted while the chain waits: the
//    link resolves the id again first. A Pool waits five rounds and is then
//    linked with every chain it holds (`adopted` list).
//  - Garbage each round: never linked, pointing at reachable nodes and at
//    pending chains; reachable nodes it points to are deleted in later rounds
//    (dangling pointers in unreachable garbage are legal C++); garbage that
//    other garbage points to is deleted too.
// Garbage is only written in the round it is allocated, after that round's
// deletes, and what it points to never leads to a dangling pointer then, so
// every checkpoint should stay a delta (the deltas mode checks the chain).
// Known runtime defect (matrix-more, on main f73cefb): the deltas mode fails.
// Dirty tracking is by 64-byte card, so untouched garbage sharing a card with
// a written object counts as written; when it holds a dangling pointer the
// delta falls back to a full image ("checkpoint N is full, not incremental:
// an object written since the previous checkpoint is unreachable and ...
// points to a freed persistent object", reported once, later ones silent).
// mx_resumed re-creates what was unreachable at the resumed round (pending
// chains, the open Pool) from (seed, round): it was not in the checkpoint.
#include "../matrix.h"

#include <string>
#include <vector>

struct [[checksync::persistent]] Node {
  std::uint64_t id;
  std::int64_t value;
  double d;
  std::string tag;
  Node *next;
  Node *other;
};

struct [[checksync::persistent]] Pool {
  std::uint64_t born;
  std::uint64_t count;
  Node *items[8];
  Pool *next;
};

[[checksync::root]] Node *list = nullptr;
[[checksync::root]] Node *slots[4] = {};
[[checksync::root]] Pool *adopted = nullptr;
[[checksync::root]] std::uint64_t next_id = 1; // ids of nodes made directly in the list
[[checksync::root]] std::uint64_t linked = 0, deleted = 0;

namespace {

// A pool is born every 5 rounds and linked 5 rounds later (as the next is born).
constexpr std::uint64_t kPoolEvery = 5, kPoolWait = 5;
enum Where : std::uint64_t { kTail, kHead, kSlot, kOther, kPool, kWhere };

struct Plan {
  std::uint64_t born, index, link_round, length, where, other_id, pick;
  bool touched_early; // written one round after birth, while unreachable
};

struct Pending {
  Plan plan;
  Node *first, *last;
};

std::vector<Pending> pending; // transient: the only pointers to waiting chains
Pool *open_pool = nullptr;    // transient: the only pointer to the open pool
std::vector<Node *> garbage;  // transient

std::uint64_t pool_born(std::uint64_t round) { return round - (round - 1) % kPoolEvery; }

std::uint64_t chains_born(std::uint64_t seed, std::uint64_t round) {
  return 1 + mx::Rng(seed, round, 999).below(3);
}

Plan plan(std::uint64_t seed, std::uint64_t born, std::uint64_t index) {
  mx::Rng r(seed, born, 1000 + index);
  Plan p{born, index, 0, 1 + r.below(3), r.below(kWhere), 0, r.next(), false};
  p.link_round = born + 1 + r.below(8);
  if (p.where == kPool)
    p.link_round = pool_born(born) + kPoolWait;
  // (A pool's chains are written in odd rounds instead, see mx_round.)
  p.touched_early = p.where != kPool && p.link_round > born + 1 && r.chance(40);
  // Refs to reachable nodes only from chains that are never written while
  // unreachable and not in a pool (see the top of the file).
  if (!p.touched_early && p.where != kPool && r.chance(60))
    p.other_id = 1 + r.below(born * 12);
  return p;
}

std::vector<Node *> reachable() {
  std::vector<Node *> out;
  mx::Digest seen;
  std::vector<Node *> work;
  auto add = [&](Node *n) {
    if (n && seen.ref(n)) {
      out.push_back(n);
      work.push_back(n);
    }
  };
  add(list);
  for (Node *s : slots)
    add(s);
  for (Pool *p = adopted; p; p = p->next)
    for (std::uint64_t i = 0; i < p->count; ++i)
      add(p->items[i]);
  while (!work.empty()) {
    Node *n = work.back();
    work.pop_back();
    add(n->next);
    add(n->other);
  }
  return out;
}

Node *by_id(std::uint64_t id) {
  if (id)
    for (Node *n : reachable())
      if (n->id == id)
        return n;
  return nullptr;
}

Pending make(const Plan &p) {
  Pending c{p, nullptr, nullptr};
  for (std::uint64_t k = 0; k < p.length; ++k) {
    Node *n = new Node{(p.born * 100 + p.index * 10 + k) << 20, std::int64_t(k),
                       mx::f64(mx::kSpecialDoubles[(p.born + k) % std::size(mx::kSpecialDoubles)]),
                       "chain " + std::to_string(p.born) + "/" + std::to_string(p.index),
                       nullptr, nullptr};
    if (!c.first)
      c.first = n;
    else
      c.last->next = n;
    c.last = n;
  }
  c.first->other = by_id(p.other_id);
  return c;
}

void touch(Pending &c) {
  c.last->value = -c.last->value - 1;
  c.last->tag += std::string("\0touched\xff", 9);
}

void add_to_pool(Pending &c) {
  if (open_pool->count < 8)
    open_pool->items[open_pool->count++] = c.first;
}

// Deletes a reachable node: every reachable ref to it is cleared first (a
// `next` is spliced past it). Garbage may still point to it.
void remove(Node *victim) {
  auto splice = [&](Node *&p) {
    if (p == victim)
      p = victim->next;
  };
  splice(list);
  for (Node *&s : slots)
    splice(s);
  for (Pool *p = adopted; p; p = p->next)
    for (std::uint64_t i = 0; i < p->count; ++i)
      splice(p->items[i]);
  for (Node *n : reachable()) {
    if (n == victim)
      continue;
    splice(n->next);
    if (n->other == victim)
      n->other = nullptr;
  }
  delete victim;
  ++deleted;
}

void link(Pending &c, mx::Rng &rng) {
  c.first->other = by_id(c.plan.other_id); // maybe deleted since: resolved again
  std::vector<Node *> now = reachable();
  switch (c.plan.where) {
  case kTail:
    if (list) {
      Node *t = list;
      while (t->next)
        t = t->next;
      t->next = c.first;
      break;
    }
    [[fallthrough]];
  case kHead:
    c.last->next = list;
    list = c.first;
    break;
  case kSlot: {
    Node *&s = slots[c.plan.pick % 4];
    // The chain it replaces is deleted, node by node.
    std::vector<Node *> old;
    for (Node *n = s; n; n = n->next)
      old.push_back(n);
    s = c.first;
    for (Node *n : old)
      remove(n);
    break;
  }
  default: // kOther
    if (now.empty()) {
      c.last->next = list;
      list = c.first;
    } else {
      now[c.plan.pick % now.size()]->other = c.first;
    }
  }
  (void)rng;
  ++linked;
}

} // namespace

void mx_round(std::uint64_t seed, std::uint64_t round, mx::Rng &rng) {
  // Chains written while unreachable.
  for (Pending &c : pending)
    if (c.plan.touched_early && c.plan.born + 1 == round)
      touch(c);
  if (open_pool)
    for (std::uint64_t i = 0; i < open_pool->count; ++i)
      if (round % 2)
        open_pool->items[i]->value += 1000; // written while unreachable
  // Deletes of reachable nodes (garbage of earlier rounds points to some).
  for (int i = int(rng.below(4)); i > 0; --i) {
    std::vector<Node *> now = reachable();
    if (now.size() > 6)
      remove(now[rng.below(now.size())]);
  }
  // Due chains and pools are linked in.
  std::vector<Pending> keep;
  for (Pending &c : pending) {
    if (c.plan.link_round == round)
      link(c, rng);
    else
      keep.push_back(c);
  }
  pending.swap(keep);
  if (open_pool && open_pool->born + kPoolWait == round) {
    open_pool->next = adopted;
    adopted = open_pool;
    open_pool = nullptr;
    linked += 1;
  }
  // Newborn: a pool every kPoolEvery rounds, chains, plain list nodes.
  if (!open_pool && pool_born(round) == round)
    open_pool = new Pool{round, 0, {}, nullptr};
  for (std::uint64_t i = 0, n = chains_born(seed, round); i < n; ++i) {
    Pending c = make(plan(seed, round, i));
    if (c.plan.where == kPool)
      add_to_pool(c);
    else
      pending.push_back(c);
  }
  for (int i = round == 1 ? 12 : int(rng.below(4)); i > 0; --i)
    list = new Node{next_id++, std::int64_t(rng.below(1000)), rng.special_double(),
                    rng.bytes(20), list, nullptr};
  // Edits of reachable nodes.
  std::vector<Node *> now = reachable();
  for (int i = int(rng.below(6)); i > 0 && !now.empty(); --i) {
    Node *n = now[rng.below(now.size())];
    n->d = rng.special_double();
    if (rng.chance(30))
      n->other = now[rng.below(now.size())];
  }
  // Garbage, written only now (after this round's deletes): pointing at
  // reachable nodes, at waiting chains, at garbage of this round. Garbage of
  // earlier rounds that garbage of its round points to is deleted.
  std::vector<Node *> fresh;
  mx::Rng g(seed, round, 77); // garbage never steers the persistent state
  for (int i = 1 + int(g.below(6)); i > 0; --i) {
    Node *n = new Node{0, -1, 0.0, "garbage", nullptr, nullptr};
    if (!now.empty())
      n->other = now[g.below(now.size())];
    if (!pending.empty() && g.chance(40)) {
      const Pending &c = pending[g.below(pending.size())];
      if (!c.plan.other_id) // never a chain that may hold a dangling ref
        n->next = c.first;
    } else if (!fresh.empty()) {
      n->next = fresh[g.below(fresh.size())];
    }
    fresh.push_back(n);
  }
  for (std::size_t i = 0; i < garbage.size();) {
    if (g.chance(30)) {
      delete garbage[i]; // other garbage may point to it
      garbage[i] = garbage.back();
      garbage.pop_back();
    } else {
      ++i;
    }
  }
  garbage.insert(garbage.end(), fresh.begin(), fresh.end());
}

void mx_resumed(std::uint64_t seed, std::uint64_t round) {
  // Re-create what was unreachable at `round`, as it was then.
  pending.clear();
  garbage.clear();
  open_pool = nullptr;
  std::uint64_t pb = pool_born(round);
  if (pb + kPoolWait > round)
    open_pool = new Pool{pb, 0, {}, nullptr};
  for (std::uint64_t born = round > 12 ? round - 12 : 1; born <= round; ++born)
    for (std::uint64_t i = 0, n = chains_born(seed, born); i < n; ++i) {
      Plan p = plan(seed, born, i);
      if (p.link_round <= round)
        continue;
      Pending c = make(p);
      if (p.touched_early && p.born + 1 <= round)
        touch(c);
      if (p.where == kPool) {
        add_to_pool(c);
      } else {
        pending.push_back(c);
      }
    }
  if (open_pool) // the pool's items were written in the odd rounds since birth
    for (std::uint64_t i = 0; i < open_pool->count; ++i) {
      Node *first = open_pool->items[i];
      std::uint64_t born = first->id >> 20;
      born /= 100;
      for (std::uint64_t r = born + 1; r <= round; ++r)
        if (r % 2)
          first->value += 1000;
    }
}

void mx_digest(mx::Digest &d) {
  d.u(next_id);
  d.u(linked);
  d.u(deleted);
  std::vector<const Node *> work;
  auto ref = [&](const Node *n) {
    if (d.ref(n))
      work.push_back(n);
  };
  ref(list);
  for (const Node *s : slots)
    ref(s);
  std::uint64_t pools = 0;
  for (const Pool *p = adopted; p; p = p->next, ++pools) {
    d.ref(p);
    d.u(p->born);
    d.u(p->count);
    for (std::uint64_t i = 0; i < p->count; ++i)
      ref(p->items[i]);
  }
  d.u(pools);
  for (std::size_t i = 0; i < work.size(); ++i) {
    const Node *n = work[i];
    d.u(n->id);
    d.i(n->value);
    d.f(n->d);
    d.str(n->tag);
    ref(n->next);
    ref(n->other);
  }
}
