// Eight threads move coins between accounts (deleting the coin object and
// allocating a new one at its destination) under checksync::mutator_guard,
// while the main thread checkpoints every few ms. Every checkpoint must be a
// consistent cut: on resume each account's balance equals the sum of its
// coins, the total is what it was, and the transfer count matches the
// workers' counts. -DNO_GUARD leaves the guards out (to see the test fail).
//   threads_bank MS        runs MS ms, then is killed at a random instant
//   (resumed) threads_bank checks the invariants, prints them, exits 0 or 1
#include <checksync/checksync.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

struct [[checksync::persistent]] Coin {
  std::int64_t value;
  Coin *next;
};

struct [[checksync::persistent]] Account {
  std::int64_t balance;
  Coin *coins;
  [[checksync::transient]] std::mutex mu; // between the workers themselves
};

struct [[checksync::persistent]] Bank {
  std::vector<Account *> accounts;
  std::vector<std::uint64_t> worker_ops;
  std::uint64_t transfers;
  std::int64_t total;
  [[checksync::transient]] std::mutex mu; // the transfer counter
};

[[checksync::root]] Bank *bank = nullptr;

constexpr int kAccounts = 16, kWorkers = 8, kCoins = 40;

static void transfer(std::size_t w, std::mt19937_64 &rng) {
#ifndef NO_GUARD
  checksync::mutator_guard guard;
#endif
  std::size_t a = rng() % kAccounts, b = rng() % kAccounts;
  if (a == b)
    return;
  Account *from = bank->accounts[a], *to = bank->accounts[b];
  std::scoped_lock both(from->mu, to->mu);
  Coin *c = from->coins;
  if (!c)
    return;
  from->coins = c->next;
  from->balance -= c->value;
  std::int64_t v = c->value;
  delete c; // a persistent object freed by a worker
  to->coins = new Coin{v, to->coins};
  to->balance += v;
  std::lock_guard l(bank->mu);
  bank->worker_ops[w] += 1;
  bank->transfers += 1;
}

static int check() {
  std::int64_t total = 0;
  int bad = 0;
  for (Account *acc : bank->accounts) {
    std::int64_t sum = 0;
    for (Coin *c = acc->coins; c; c = c->next)
      sum += c->value;
    bad += sum != acc->balance;
    total += acc->balance;
  }
  std::uint64_t ops = 0;
  for (std::uint64_t n : bank->worker_ops)
    ops += n;
  std::printf("resumed: %llu transfers, worker sum %llu, total %lld of %lld, %d accounts "
              "inconsistent\n",
              (unsigned long long)bank->transfers, (unsigned long long)ops, (long long)total,
              (long long)bank->total, bad);
  return bad == 0 && total == bank->total && ops == bank->transfers ? 0 : 1;
}

int main(int argc, char **argv) {
  checksync::init();
  if (checksync::resumed())
    return check();
  int run_ms = argc > 1 ? std::atoi(argv[1]) : 1000;
  bank = new Bank{};
  bank->worker_ops.assign(kWorkers, 0);
  for (int i = 0; i < kAccounts; ++i) {
    auto *acc = new Account{};
    for (int j = 0; j < kCoins; ++j) {
      acc->coins = new Coin{1 + (i * kCoins + j) % 7, acc->coins};
      acc->balance += acc->coins->value;
    }
    bank->total += acc->balance;
    bank->accounts.push_back(acc);
  }
  checksync::wait_durable(checksync::checkpoint());
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w)
    workers.emplace_back([w, &stop] {
      std::mt19937_64 rng(w + 1);
      while (!stop.load(std::memory_order_relaxed))
        transfer(std::size_t(w), rng);
    });
  // Checkpoints every 2 ms; killed at a random instant near the end.
  std::mt19937_64 rng(std::random_device{}());
  auto kill_at = std::chrono::steady_clock::now() +
                 std::chrono::milliseconds(run_ms / 2 + int(rng() % (run_ms / 2 + 1)));
  std::uint64_t epochs = 0, durable = 0;
  while (std::chrono::steady_clock::now() < kill_at) {
    std::uint64_t e = checksync::checkpoint();
    ++epochs;
    if (e % 8 == 0 && checksync::wait_durable(e))
      durable = e;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::printf("took %llu checkpoints (newest waited for: %llu); killed while running\n",
              (unsigned long long)epochs, (unsigned long long)durable);
  std::fflush(stdout);
  std::raise(SIGKILL);
}
