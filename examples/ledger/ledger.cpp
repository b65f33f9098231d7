// ledger: a tiny stateful service for the CheckSync failover demo.
//
// State: accounts in a binary search tree and a ring of the most recent
// transfers, all [[checksync::persistent]]. Each round moves money between
// random accounts (the total never changes), checkpoints, and reports the
// round once the checkpoint is durable. Kill it with SIGKILL at any moment and
// `checksync-rt resume --from DIR -- ledger` continues from the last durable
// round with the same digest.
//
//   CHECKSYNC_DIR=/tmp/ledger.d ./ledger [--rounds N] [--accounts N] [--delay-ms N]
#include <checksync/checksync.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
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

namespace {

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

struct Summary {
  std::uint64_t accounts = 0;
  std::int64_t total = 0;
  std::uint64_t digest = 1469598103934665603ull;
};

void fold(Summary &s, std::uint64_t v) { s.digest = (s.digest ^ v) * 1099511628211ull; }

void walk(const Account *t, Summary &s) {
  if (!t)
    return;
  walk(t->left, s);
  ++s.accounts;
  s.total += t->balance;
  fold(s, t->number);
  fold(s, std::uint64_t(t->balance));
  for (char c : t->owner)
    fold(s, std::uint64_t(c));
  walk(t->right, s);
}

Summary summarise() {
  Summary s;
  walk(accounts, s);
  fold(s, round_no);
  const Transfer *t = recent;
  for (int i = 0; t && i < 64; ++i, t = t->next) {
    fold(s, t->round);
    fold(s, t->from ? t->from->number : 0);
    fold(s, t->to ? t->to->number : 0);
    fold(s, std::uint64_t(t->amount));
    if (t->next == recent)
      break;
  }
  return s;
}

std::uint64_t next_random() { // xorshift64, its state is persistent
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

void record(Account *from, Account *to, std::int64_t amount) {
  // Reuse the ring slot of the oldest transfer once the ring is full.
  static constexpr int kRing = 16;
  int size = 0;
  for (Transfer *t = recent; t; t = t->next) {
    ++size;
    if (t->next == recent)
      break;
  }
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
    slot = recent->next; // oldest
  }
  slot->round = round_no;
  slot->from = from;
  slot->to = to;
  slot->amount = amount;
  recent = slot;
}

} // namespace

int main(int argc, char **argv) {
  checksync::init(); // resumes the state when started by `checksync-rt resume`
  std::uint64_t rounds = ~0ull, delay_ms = 50, naccounts = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--rounds"))
      rounds = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--delay-ms"))
      delay_ms = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--accounts"))
      naccounts = std::strtoull(argv[i + 1], nullptr, 10);
  }

  if (checksync::resumed()) {
    Summary s = summarise();
    std::printf("resumed at round %llu: %llu accounts, total %lld, digest %016llx\n",
                (unsigned long long)round_no, (unsigned long long)s.accounts,
                (long long)s.total, (unsigned long long)s.digest);
  } else {
    std::vector<std::uint32_t> numbers(naccounts);
    for (std::uint32_t i = 0; i < naccounts; ++i)
      numbers[i] = i + 1;
    std::shuffle(numbers.begin(), numbers.end(), std::mt19937(7)); // a balanced-ish tree
    for (std::uint32_t n : numbers) {
      auto *a = new Account{};
      a->number = n;
      a->balance = 1000;
      std::snprintf(a->owner, sizeof a->owner, "owner-%u", n);
      accounts = insert(accounts, a);
    }
    rng_state = 88172645463325252ull;
    std::printf("started: %llu accounts, total %lld\n", (unsigned long long)naccounts,
                (long long)summarise().total);
  }
  std::fflush(stdout);

  for (std::uint64_t done = 0; done < rounds; ++done) {
    ++round_no;
    Summary before = summarise();
    for (int i = 0; i < 100; ++i) {
      Account *from = find(accounts, std::uint32_t(1 + next_random() % before.accounts));
      Account *to = find(accounts, std::uint32_t(1 + next_random() % before.accounts));
      std::int64_t amount = std::int64_t(next_random() % 50);
      if (!from || !to || from == to || from->balance < amount)
        continue;
      from->balance -= amount;
      to->balance += amount;
      record(from, to, amount);
    }
    // The digest is printed before the checkpoint, so whichever round a kill
    // leaves durable, its digest is in the log.
    Summary s = summarise();
    std::printf("round %llu: total %lld, digest %016llx\n", (unsigned long long)round_no,
                (long long)s.total, (unsigned long long)s.digest);
    std::fflush(stdout);
    std::uint64_t epoch = checksync::checkpoint();
    bool durable = checksync::wait_durable(epoch);
    std::printf("round %llu %s\n", (unsigned long long)round_no,
                durable ? "durable" : "NOT durable (see the error above)");
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  }
}
