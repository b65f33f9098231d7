// Regression shape "linked late": objects (and chains a -> b -> c of them)
// allocated rounds before they are linked into the reachable state. At the
// checkpoints in between they are unreachable (not written); the round that
// links them writes only the object that now points at them. Some chains are
// written to while still unreachable. The minimal case is
//   Link *a = new Link{42}; head = new Link{1}; checkpoint(); head->next = a; checkpoint();
// A resume must contain every linked object.
#include "../matrix.h"

#include <vector>

struct [[checksync::persistent]] Link {
  std::int64_t value;
  Link *next;
};

[[checksync::root]] Link *head = nullptr;
[[checksync::root]] std::uint64_t linked_chains = 0;

namespace {

// A chain allocated in round `born`: everything about it follows from
// (seed, born, index), so a resumed process can re-create the chains that
// were still unreachable (and therefore not in the checkpoint).
struct Plan {
  std::uint64_t born, index, link_round, length, where;
  bool touched_early; // written to one round after birth, while unreachable
};

struct Pending {
  Plan plan;
  Link *first, *last;
};

std::vector<Pending> pool; // transient: the only pointers to unlinked chains

std::uint64_t chains_born(std::uint64_t seed, std::uint64_t round) {
  return 1 + mx::Rng(seed, round, 999).below(round == 1 ? 4 : 3);
}

Plan plan(std::uint64_t seed, std::uint64_t born, std::uint64_t index) {
  mx::Rng r(seed, born, 1000 + index);
  Plan p{born, index, 0, 0, 0, false};
  p.link_round = born + 1 + r.below(born == 1 ? 9 : 6);
  p.length = 1 + r.below(3);
  p.where = r.next();
  p.touched_early = p.link_round > born + 1 && r.chance(40);
  if (born == 1 && index == 0) { // the minimal case, exactly
    p.link_round = 2;
    p.length = 1;
    p.where = 0;
  }
  return p;
}

Pending make(const Plan &p) {
  Pending c{p, nullptr, nullptr};
  for (std::uint64_t k = 0; k < p.length; ++k) {
    Link *l = new Link{std::int64_t(p.born * 1000 + p.index * 10 + k), nullptr};
    if (!c.first)
      c.first = l;
    else
      c.last->next = l;
    c.last = l;
  }
  return c;
}

void touch(Pending &c) { c.last->value = -c.last->value - 1; }

} // namespace

void mx_round(std::uint64_t seed, std::uint64_t round, mx::Rng &rng) {
  if (round == 1)
    head = new Link{1, nullptr};
  // Unreachable chains written to (a delta holds them while still unreachable).
  for (Pending &c : pool)
    if (c.plan.touched_early && c.plan.born + 1 == round)
      touch(c);
  // Chains due: appended at the tail (only the old tail is written: the
  // chain's objects are not), or prepended / inserted after some node (the
  // chain's last object is written, the others are not).
  std::vector<Pending> keep;
  for (Pending &c : pool) {
    if (c.plan.link_round != round) {
      keep.push_back(c);
      continue;
    }
    std::uint64_t n = 0;
    for (Link *l = head; l; l = l->next)
      ++n;
    if (n == 0) {
      head = c.first;
    } else if (c.plan.where % 3 == 0) {
      Link *tail = head;
      while (tail->next)
        tail = tail->next;
      tail->next = c.first;
    } else if (c.plan.where % 3 == 1) {
      c.last->next = head;
      head = c.first;
    } else {
      Link *at = head;
      for (std::uint64_t k = c.plan.where % n; k > 0; --k)
        at = at->next;
      c.last->next = at->next;
      at->next = c.first;
    }
    ++linked_chains;
  }
  pool.swap(keep);
  for (std::uint64_t i = 0, n = chains_born(seed, round); i < n; ++i)
    pool.push_back(make(plan(seed, round, i)));
  // Ordinary churn on the reachable list: edits and deletes.
  std::uint64_t n = 0;
  for (Link *l = head; l; l = l->next)
    ++n;
  if (n > 3 && rng.chance(50)) {
    Link *prev = head;
    for (std::uint64_t k = rng.below(n - 1); k > 0; --k)
      prev = prev->next;
    Link *victim = prev->next;
    prev->next = victim->next;
    delete victim;
  }
  if (head && rng.chance(50))
    head->value += 7;
}

void mx_resumed(std::uint64_t seed, std::uint64_t round) {
  // Re-create the chains born by `round` and linked after it, as they were.
  pool.clear();
  for (std::uint64_t born = round > 10 ? round - 10 : 1; born <= round; ++born)
    for (std::uint64_t i = 0, n = chains_born(seed, born); i < n; ++i) {
      Plan p = plan(seed, born, i);
      if (p.link_round <= round)
        continue;
      Pending c = make(p);
      if (p.touched_early && p.born + 1 <= round)
        touch(c);
      pool.push_back(c);
    }
}

void mx_digest(mx::Digest &d) {
  d.u(linked_chains);
  std::uint64_t n = 0;
  for (const Link *l = head; l && n < 1000000; l = l->next, ++n) {
    d.ref(l);
    d.i(l->value);
  }
  d.u(n);
}
