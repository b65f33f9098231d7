// Randomised differential test: for many seeds, build a random object graph
// (cycles, sharing, arrays, garbage, deletes, allocations from several
// threads), checkpoint, mutate without checkpointing, SIGKILL, resume in a
// fresh process and compare the digest with the acknowledged one.
//
// RUN: %cs_cxx %s -o %t %cs_ldflags
// RUN: rm -rf %t.d && for seed in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do \
// RUN:   rm -rf %t.d; env CHECKSYNC_DIR=%t.d not --crash %t run $seed > %t.first || exit 1; \
// RUN:   %csrt resume --from %t.d -- %t verify $seed > %t.second || exit 1; \
// RUN:   grep -q "^acknowledged" %t.first || exit 1; \
// RUN:   test "$(sed -n 's/^acknowledged //p' %t.first)" = "$(sed -n 's/^resumed //p' %t.second)" \
// RUN:     || { echo "seed $seed differs"; cat %t.first %t.second; exit 1; }; \
// RUN: done
#include <checksync/checksync.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

struct Leaf;
struct [[checksync::persistent]] Vertex {
  std::uint64_t label;
  std::int32_t weight[3];
  double score;
  Vertex *edges[4];
  Leaf *leaf;
  unsigned char tag;
};

struct [[checksync::persistent]] Leaf {
  std::int8_t small;
  std::uint16_t medium;
  float ratio;
  Vertex *back;
};

struct [[checksync::persistent]] Bundle {
  Leaf first;
  Leaf rest[2];
};

[[checksync::root]] Vertex *entry = nullptr;
[[checksync::root]] Vertex *pool[8] = {};
[[checksync::root]] Leaf *leaves = nullptr; // new Leaf[n]
[[checksync::root]] std::uint64_t leaf_count = 0;
[[checksync::root]] Bundle bundle = {};

static std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  return h ^ (v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2));
}
template <class T> static std::uint64_t raw(T v) {
  std::uint64_t b = 0;
  std::memcpy(&b, &v, sizeof v);
  return b;
}

static std::string digest() {
  std::map<const void *, std::uint64_t> num;
  std::vector<const Vertex *> work;
  auto id = [&](const void *p) -> std::uint64_t {
    if (!p)
      return 0;
    auto [it, fresh] = num.emplace(p, num.size() + 1);
    return it->second;
  };
  auto vid = [&](const Vertex *v) {
    bool fresh = v && !num.count(v);
    std::uint64_t i = id(v);
    if (fresh)
      work.push_back(v);
    return i;
  };
  std::uint64_t h = 0;
  auto leaf = [&](const Leaf &l) {
    h = mix(h, raw(l.small));
    h = mix(h, l.medium);
    h = mix(h, raw(l.ratio));
    h = mix(h, vid(l.back));
  };
  h = mix(h, vid(entry));
  for (auto *v : pool)
    h = mix(h, vid(v));
  h = mix(h, leaf_count);
  h = mix(h, id(leaves));
  leaf(bundle.first);
  for (auto &l : bundle.rest)
    leaf(l);
  for (std::uint64_t i = 0; i < leaf_count; ++i)
    leaf(leaves[i]);
  std::uint64_t vertices = 0;
  for (size_t i = 0; i < work.size(); ++i) {
    const Vertex *v = work[i];
    ++vertices;
    h = mix(h, v->label);
    for (auto w : v->weight)
      h = mix(h, raw(w));
    h = mix(h, raw(v->score));
    for (auto *e : v->edges)
      h = mix(h, vid(e));
    h = mix(h, id(v->leaf));
    if (v->leaf)
      leaf(*v->leaf);
    h = mix(h, v->tag);
  }
  char buf[96];
  std::snprintf(buf, sizeof buf, "vertices=%llu digest=%016llx",
                (unsigned long long)vertices, (unsigned long long)h);
  return buf;
}

int main(int argc, char **argv) {
  checksync::init();
  if (argc < 3)
    return 2;
  std::string mode = argv[1];
  unsigned seed = unsigned(std::stoul(argv[2]));
  if (mode == "verify") {
    if (!checksync::resumed())
      return 1;
    std::printf("resumed %s\n", digest().c_str());
    return 0;
  }
  std::mt19937_64 rng(seed);
  int n = 1 + int(rng() % 2000);
  std::vector<Vertex *> vs(n);
  // Allocate from several threads: each thread has its own heap.
  int nthreads = 1 + int(rng() % 4);
  std::vector<std::thread> threads;
  for (int t = 0; t < nthreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = t; i < n; i += nthreads)
        vs[i] = new Vertex{};
    });
  for (auto &t : threads)
    t.join();
  for (Vertex *v : vs) {
    v->label = rng();
    for (auto &w : v->weight)
      w = std::int32_t(rng());
    v->score = (rng() % 3 == 0) ? -0.0 : double(std::int64_t(rng())) / 1e9;
    v->tag = (unsigned char)rng();
    for (auto &e : v->edges)
      e = rng() % 3 ? vs[rng() % n] : nullptr;
    if (rng() % 4 == 0) {
      v->leaf = new Leaf{std::int8_t(rng()), std::uint16_t(rng()), float(rng() % 1000) / 7.f,
                         vs[rng() % n]};
    }
  }
  entry = vs[rng() % n];
  for (auto &p : pool)
    p = rng() % 2 ? vs[rng() % n] : nullptr;
  leaf_count = rng() % 20;
  leaves = leaf_count ? new Leaf[leaf_count] : nullptr;
  for (std::uint64_t i = 0; i < leaf_count; ++i)
    leaves[i] = Leaf{std::int8_t(-std::int64_t(i)), std::uint16_t(i), 0.5f, vs[rng() % n]};
  bundle.first.back = vs[rng() % n];
  bundle.rest[1].medium = 77;
  // Garbage and deletes: unlinked vertices, arrays and unique_ptrs freed.
  for (int i = 0; i < 50; ++i) {
    auto *g = new Vertex{};
    g->edges[0] = entry;
    if (i % 3 == 0)
      delete g;
  }
  delete[] new Leaf[5];
  { auto owned = std::make_unique<Vertex>(); owned->label = 1; }
  std::uint64_t e = checksync::checkpoint();
  if (!checksync::wait_durable(e))
    return 3;
  std::printf("acknowledged %s\n", digest().c_str());
  std::fflush(stdout);
  // Unacknowledged mutations.
  for (Vertex *v : vs) {
    v->label ^= 1;
    v->edges[0] = nullptr;
  }
  entry = nullptr;
  std::raise(SIGKILL);
}
