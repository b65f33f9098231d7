// Copy-on-write while deltas are encoded (rt/heap/cow.h): the program writes,
// deletes and allocates right after every checkpoint() while a slowed-down
// encoder (CHECKSYNC_TEST_ENCODE_DELAY_US) is still reading the heap, from
// two threads. CHECKSYNC_VERIFY_COW=1 makes the runtime encode each delta at
// checkpoint() as well and abort if the pipeline's bytes differ, so every
// delta must be the state at its checkpoint, not a later one. Then the last
// acknowledged state must resume.
//
// RUN: %cs_cxx %s -o %t %cs_ldflags
// RUN: for seed in 1 2 3 4; do \
// RUN:   rm -rf %t.d; env CHECKSYNC_DIR=%t.d CHECKSYNC_VERIFY_COW=1 \
// RUN:     CHECKSYNC_TEST_ENCODE_DELAY_US=3 %t run $seed > %t.first || exit 1; \
// RUN:   %csrt resume --from %t.d -- %t verify $seed > %t.second || exit 1; \
// RUN:   test "$(sed -n 's/^acknowledged //p' %t.first)" = "$(sed -n 's/^resumed //p' %t.second)" \
// RUN:     || { echo "seed $seed differs"; cat %t.first %t.second; exit 1; }; \
// RUN: done
// The writes did race with the encoder:
// RUN: grep -q "copies [1-9]" %t.first
#include <checksync/checksync.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

struct [[checksync::persistent]] Item { // library values
  std::string key;
  std::string value;
  std::vector<std::int64_t> samples;
  std::map<std::string, std::uint32_t> tags;
  Item *next;
};

struct [[checksync::persistent]] Plain { // trivially copyable and destructible
  std::uint64_t a;
  double b;
  char bytes[24];
  Plain *peer;
  Item *item;
};

struct [[checksync::persistent]] World {
  std::vector<Item *> items;
  std::vector<Plain *> plains;
  std::vector<Plain *> other; // the second thread's
  std::uint64_t rounds;
};

[[checksync::root]] World *world = nullptr;

static std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  return (h ^ v) * 0x100000001b3ull + (h >> 29);
}
static std::uint64_t hash_str(std::uint64_t h, const std::string &s) {
  for (unsigned char c : s)
    h = mix(h, c);
  return mix(h, s.size());
}

static std::uint64_t digest() {
  std::uint64_t h = mix(1469598103934665603ull, world->rounds);
  std::map<const void *, std::uint64_t> index;
  for (std::size_t i = 0; i < world->items.size(); ++i)
    index[world->items[i]] = i + 1;
  for (std::size_t i = 0; i < world->plains.size(); ++i)
    index[world->plains[i]] = 1000000 + i;
  for (std::size_t i = 0; i < world->other.size(); ++i)
    index[world->other[i]] = 2000000 + i;
  auto id = [&](const void *p) { return p ? index.at(p) : 0; };
  for (Item *it : world->items) {
    h = hash_str(h, it->key);
    h = hash_str(h, it->value);
    for (std::int64_t s : it->samples)
      h = mix(h, std::uint64_t(s));
    for (auto &[k, v] : it->tags)
      h = mix(hash_str(h, k), v);
    h = mix(h, id(it->next));
  }
  for (auto *v : {&world->plains, &world->other})
    for (Plain *p : *v) {
      h = mix(h, p->a);
      std::uint64_t b;
      std::memcpy(&b, &p->b, 8);
      h = mix(h, b);
      for (char c : p->bytes)
        h = mix(h, std::uint8_t(c));
      h = mix(mix(h, id(p->peer)), id(p->item));
    }
  return h;
}

static void mutate(std::mt19937_64 &rng, std::vector<Plain *> &plains, bool items_too) {
  auto pick = [&](auto &v) { return v.empty() ? nullptr : v[rng() % v.size()]; };
  switch (rng() % (items_too ? 10 : 4)) {
  case 0: { // rewrite a plain object in place
    if (Plain *p = pick(plains)) {
      p->a = rng();
      p->b = double(rng() % 1000) / 7;
      std::memset(p->bytes, int('a' + rng() % 26), sizeof p->bytes);
    }
    break;
  }
  case 1: // delete a plain object
    if (!plains.empty()) {
      std::size_t i = rng() % plains.size();
      Plain *dead = plains[i];
      plains.erase(plains.begin() + std::ptrdiff_t(i));
      for (Plain *q : plains)
        if (q->peer == dead)
          q->peer = nullptr;
      delete dead;
    }
    break;
  case 2: { // a new plain object
    auto *p = new Plain{rng(), 0.5, {}, pick(plains), nullptr};
    std::snprintf(p->bytes, sizeof p->bytes, "n%llu", (unsigned long long)(rng() % 100000));
    plains.push_back(p);
    break;
  }
  case 3: // relink
    if (Plain *p = pick(plains))
      p->peer = pick(plains);
    break;
  case 4: // a string grows or shrinks (new buffer or in place)
    if (Item *it = pick(world->items))
      it->value.assign(rng() % 64, char('A' + rng() % 26));
    break;
  case 5:
    if (Item *it = pick(world->items)) {
      it->samples.push_back(std::int64_t(rng()));
      it->tags["t" + std::to_string(rng() % 8)] = std::uint32_t(rng());
    }
    break;
  case 6: // delete an item (library values destroyed first)
    if (!world->items.empty()) {
      std::size_t i = rng() % world->items.size();
      Item *dead = world->items[i];
      world->items.erase(world->items.begin() + std::ptrdiff_t(i));
      for (Item *it : world->items)
        if (it->next == dead)
          it->next = nullptr;
      for (Plain *p : world->plains)
        if (p->item == dead)
          p->item = nullptr;
      delete dead;
    }
    break;
  case 7: {
    auto *it = new Item{"k" + std::to_string(rng() % 100000), std::string(rng() % 40, 'v'),
                        {1, 2, 3}, {}, pick(world->items)};
    world->items.push_back(it);
    break;
  }
  case 8:
    if (Plain *p = pick(world->plains))
      p->item = pick(world->items);
    break;
  case 9: // written by code the compiler cannot see, announced by touch()
    if (Item *it = pick(world->items)) {
      checksync::touch(it);
      it->key += "!";
    }
    break;
  }
}

int main(int argc, char **argv) {
  checksync::init();
  if (argc < 3)
    return 2;
  std::uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  if (std::string(argv[1]) == "verify") {
    std::printf("resumed %llu\n", (unsigned long long)(world ? digest() : 0));
    return 0;
  }
  std::mt19937_64 rng(seed);
  world = new World{};
  for (int i = 0; i < 300; ++i) {
    world->items.push_back(new Item{"k" + std::to_string(i), std::string(i % 50, 'x'),
                                    {i}, {{"a", 1}}, nullptr});
    world->plains.push_back(new Plain{std::uint64_t(i), 1.0, {}, nullptr, world->items.back()});
    world->other.push_back(new Plain{std::uint64_t(i), 2.0, {}, nullptr, nullptr});
  }
  checksync::wait_durable(checksync::checkpoint());

  // The second thread mutates its own objects, and stops while the main
  // thread checkpoints (the contract: no writes during checkpoint()).
  std::mutex mu;
  bool stop = false;
  std::thread t([&] {
    std::mt19937_64 r2(seed * 31 + 7);
    for (;;) {
      std::lock_guard lock(mu);
      if (stop)
        return;
      for (int k = 0; k < 20; ++k)
        mutate(r2, world->other, false);
    }
  });
  std::uint64_t last = 0;
  for (int round = 0; round < 60; ++round) {
    for (int k = 0; k < 400; ++k) {
      std::lock_guard lock(mu); // world->other is shared with the thread
      mutate(rng, world->plains, true);
    }
    std::lock_guard lock(mu);
    ++world->rounds;
    last = checksync::checkpoint();
    stop = round == 59; // the last checkpoint is the final state
  }
  t.join();
  std::uint64_t d = digest();
  if (!checksync::wait_durable(last))
    return 1;
  std::printf("acknowledged %llu\n", (unsigned long long)d);
  std::printf("copies %llu\n",
              (unsigned long long)checksync::last_checkpoint_stats().total_copied_before_write);
  return 0;
}
