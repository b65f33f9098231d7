// The shape of examples/ledger: accounts in a binary search tree (a char
// array owner), a ring of the 16 most recent transfers whose slots are reused
// once it is full (refs to accounts rewritten in place), and root counters,
// including the persistent state of the xorshift generator the transfers draw
// from (so the history continues from the restored counter, not from the
// matrix's rng). Rounds also open accounts and close empty ones (their
// transfers in the ring keep no ref to them). The total of all balances never
// changes; a run that sees it change reports an error.
#include "../matrix.h"

#include <algorithm>
#include <vector>

struct [[checksync::persistent]] Account {
  std::uint32_t number;
  std::int64_t balance;
  char owner[16];
  Account *left, *right;
};

struct [[checksync::persistent]] Transfer {
  std::uint64_t round;
  Account *from, *to;
  std::int64_t amount;
  Transfer *next; // ring: the oldest transfer points back to the newest
};

[[checksync::root]] Account *accounts = nullptr;
[[checksync::root]] Transfer *recent = nullptr;
[[checksync::root]] std::uint64_t round_no = 0;
[[checksync::root]] std::uint64_t rng_state = 1;
[[checksync::root]] std::uint32_t next_number = 1;
[[checksync::root]] std::int64_t expected_total = 0;

namespace {

constexpr int kRing = 16;

Account *insert(Account *t, Account *n) {
  if (!t)
    return n;
  if (n->number < t->number)
    t->left = insert(t->left, n);
  else
    t->right = insert(t->right, n);
  return t;
}

Account *find(Account *t, std::uint32_t number) {
  while (t && t->number != number)
    t = number < t->number ? t->left : t->right;
  return t;
}

// Unlinks a leaf or a one-child node with `number`; null if it has two.
Account *unlink_simple(std::uint32_t number) {
  Account **p = &accounts;
  while (*p && (*p)->number != number)
    p = number < (*p)->number ? &(*p)->left : &(*p)->right;
  Account *a = *p;
  if (!a || (a->left && a->right))
    return nullptr;
  *p = a->left ? a->left : a->right;
  return a;
}

void walk(Account *t, std::vector<Account *> &out) {
  if (!t)
    return;
  walk(t->left, out);
  out.push_back(t);
  walk(t->right, out);
}

std::uint64_t next_random() { // xorshift64; its state is persistent
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

std::vector<Transfer *> transfers() {
  std::vector<Transfer *> out;
  for (Transfer *t = recent; t && out.size() <= kRing; t = t->next) {
    out.push_back(t);
    if (t->next == recent)
      break;
  }
  return out;
}

void record(Account *from, Account *to, std::int64_t amount) {
  std::size_t size = transfers().size();
  Transfer *slot;
  if (size < kRing) {
    slot = new Transfer{};
    if (!recent) {
      slot->next = slot;
    } else {
      slot->next = recent->next;
      recent->next = slot;
    }
  } else {
    slot = recent->next; // the oldest, reused
  }
  slot->round = round_no;
  slot->from = from;
  slot->to = to;
  slot->amount = amount;
  recent = slot;
}

Account *open(std::int64_t balance) {
  auto *a = new Account{};
  a->number = next_number++;
  a->balance = balance;
  std::snprintf(a->owner, sizeof a->owner, "owner-%u", a->number);
  accounts = insert(accounts, a);
  return a;
}

} // namespace

void mx_round(std::uint64_t, std::uint64_t, mx::Rng &rng) {
  ++round_no;
  if (!accounts) {
    rng_state = 88172645463325252ull;
    // A shuffled insertion order: a balanced-ish tree.
    std::vector<std::uint32_t> order(300);
    for (std::uint32_t i = 0; i < order.size(); ++i)
      order[i] = i;
    for (std::size_t i = order.size() - 1; i > 0; --i)
      std::swap(order[i], order[rng.below(i + 1)]);
    next_number = 1;
    for (std::uint32_t k : order) {
      auto *a = new Account{};
      a->number = k + 1;
      a->balance = 1000;
      std::snprintf(a->owner, sizeof a->owner, "owner-%u", a->number);
      accounts = insert(accounts, a);
    }
    next_number = std::uint32_t(order.size() + 1);
    expected_total = 1000 * std::int64_t(order.size());
  }
  for (int i = 0; i < 100; ++i) {
    Account *from = find(accounts, std::uint32_t(1 + next_random() % (next_number - 1)));
    Account *to = find(accounts, std::uint32_t(1 + next_random() % (next_number - 1)));
    std::int64_t amount = std::int64_t(next_random() % 50);
    if (!from || !to || from == to || from->balance < amount)
      continue;
    from->balance -= amount;
    to->balance += amount;
    record(from, to, amount);
  }
  // Close a few accounts: move the balance out, forget the ring's refs.
  std::vector<Account *> all;
  walk(accounts, all);
  for (int i = int(rng.below(4)); i > 0 && all.size() > 10; --i) {
    Account *a = all[rng.below(all.size())];
    Account *heir = all[rng.below(all.size())];
    if (a == heir || !unlink_simple(a->number))
      continue;
    heir->balance += a->balance;
    for (Transfer *t : transfers()) {
      if (t->from == a)
        t->from = nullptr;
      if (t->to == a)
        t->to = nullptr;
    }
    all.erase(std::find(all.begin(), all.end(), a));
    delete a;
  }
  for (int i = int(rng.below(3)); i > 0; --i) { // and open new ones
    Account *a = open(0);
    Account *payer = all[rng.below(all.size())];
    std::int64_t amount = payer->balance / 2;
    payer->balance -= amount;
    a->balance += amount;
    record(payer, a, amount);
  }
}

void mx_resumed(std::uint64_t, std::uint64_t) {}

void mx_digest(mx::Digest &d) {
  std::vector<Account *> all;
  walk(accounts, all);
  std::int64_t total = 0;
  d.u(all.size());
  for (const Account *a : all) {
    d.ref(a);
    d.u(a->number);
    d.i(a->balance);
    d.bytes(a->owner, sizeof a->owner);
    d.ref(a->left);
    d.ref(a->right);
    total += a->balance;
  }
  d.u(round_no);
  d.u(rng_state);
  d.u(next_number);
  std::vector<Transfer *> ts = transfers();
  d.u(ts.size());
  for (const Transfer *t : ts) {
    d.ref(t);
    d.u(t->round);
    d.ref(t->from);
    d.ref(t->to);
    d.i(t->amount);
  }
  if (accounts && total != expected_total) {
    std::printf("error: total balance %lld, expected %lld\n", (long long)total,
                (long long)expected_total);
    std::exit(13);
  }
}
