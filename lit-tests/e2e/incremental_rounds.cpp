// 300 rounds of random puts, deletes, pointer rewiring and container edits on
// a persistent hash table, with a checkpoint after each, all under the
// correctness oracle (CHECKSYNC_VERIFY=1: every epoch is checked against a
// full image). Then SIGKILL mid-round: the resumed state is exactly the last
// acknowledged round's, and the directory stays a small multiple of the live
// data (deltas are compacted into a new base in the background).
//
// RUN: %cs_cxx %s -o %t %cs_ldflags
// RUN: rm -rf %t.d && env CHECKSYNC_VERIFY=1 CHECKSYNC_DIR=%t.d not --crash %t run 300 > %t.first
// RUN: %csrt resume --from %t.d -- %t verify > %t.second
// RUN: grep '^acknowledged' %t.first | tail -n 1 | sed 's/^acknowledged //' > %t.expected
// RUN: sed 's/^resumed //' %t.second > %t.actual
// RUN: diff %t.expected %t.actual
// RUN: %csrt inspect %t.d | FileCheck %s --check-prefix=INSPECT
// INSPECT: state at epoch 300
// RUN: python3 -c "import os,sys; d=sys.argv[1]; t=sum(os.path.getsize(os.path.join(d,f)) for f in os.listdir(d)); print(t)" %t.d > %t.size
// RUN: %csrt inspect --json %t.d | python3 -c "import json,sys; j=json.load(sys.stdin); s=int(open(sys.argv[1]).read()); print('dir', s, 'live', j['object_bytes']); sys.exit(0 if s < 12 * j['object_bytes'] else 1)" %t.size
// Only the first checkpoint is full, and small changes make small deltas
// (the program prints what last_checkpoint_stats() said of every epoch):
// RUN: grep '^checkpoints ' %t.first | FileCheck %s --check-prefix=STATS
// STATS: checkpoints full=1 delta=299
// RUN: grep '^checkpoints ' %t.first | python3 -c "import sys; f=dict(kv.split('=') for kv in sys.stdin.read().split()[1:]); assert int(f['max_delta_objects']) < int(f['live']) / 2, f"
#include <checksync/checksync.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

struct [[checksync::persistent]] Entry {
  std::string key;
  std::string value;
  std::int64_t version;
  std::vector<std::int32_t> tags;
  Entry *next;
};

struct [[checksync::persistent]] Table {
  std::uint64_t size;
  std::uint64_t puts, deletes;
  Entry *buckets[256];
};

[[checksync::root]] Table *table = nullptr;
[[checksync::root]] std::uint64_t round_no = 0;

static std::uint64_t fnv(const std::string &s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s)
    h = (h ^ c) * 1099511628211ull;
  return h;
}

static std::string digest() {
  std::uint64_t h = fnv(std::to_string(round_no) + "/" + std::to_string(table->size) + "/" +
                        std::to_string(table->puts) + "/" + std::to_string(table->deletes));
  std::uint64_t n = 0;
  for (int b = 0; b < 256; ++b) {
    std::uint64_t pos = 0;
    for (const Entry *e = table->buckets[b]; e; e = e->next, ++pos) {
      ++n;
      std::string t;
      for (auto x : e->tags)
        t += std::to_string(x) + ",";
      h ^= fnv(std::to_string(b) + ":" + std::to_string(pos) + ":" + e->key + "=" + e->value +
               "@" + std::to_string(e->version) + "[" + t + "]") +
           (h << 1);
    }
  }
  char buf[96];
  std::snprintf(buf, sizeof buf, "round=%llu entries=%llu digest=%016llx",
                (unsigned long long)round_no, (unsigned long long)n, (unsigned long long)h);
  return buf;
}

static Entry **find(const std::string &key) {
  Entry **p = &table->buckets[fnv(key) % 256];
  while (*p && (*p)->key != key)
    p = &(*p)->next;
  return p;
}

int main(int argc, char **argv) {
  checksync::init();
  if (argc > 1 && !std::strcmp(argv[1], "verify")) {
    if (!checksync::resumed())
      return 1;
    std::printf("resumed %s\n", digest().c_str());
    return 0;
  }
  int rounds = argc > 2 ? std::atoi(argv[2]) : 300;
  std::mt19937_64 rng(7);
  table = new Table{};
  std::uint64_t fulls = 0, deltas = 0, max_delta_objects = 0;
  for (int r = 0; r < rounds; ++r) {
    ++round_no;
    for (int op = 0; op < 40; ++op) {
      std::string key = "k" + std::to_string(rng() % 2000);
      Entry **slot = find(key);
      switch (rng() % 6) {
      case 0:
      case 1: // put
        if (*slot) {
          (*slot)->value = std::string(rng() % 40, char('a' + rng() % 26));
          ++(*slot)->version;
        } else {
          Entry *e = new Entry{key, std::string(rng() % 40, 'v'), 1, {}, nullptr};
          *slot = e;
          ++table->size;
        }
        ++table->puts;
        break;
      case 2: // delete
        if (Entry *e = *slot) {
          *slot = e->next;
          delete e;
          --table->size;
          ++table->deletes;
        }
        break;
      case 3: // rewire: move to the front of its bucket
        if (Entry *e = *slot; e && slot != &table->buckets[fnv(key) % 256]) {
          *slot = e->next;
          e->next = table->buckets[fnv(key) % 256];
          table->buckets[fnv(key) % 256] = e;
        }
        break;
      case 4: // container edit
        if (Entry *e = *slot) {
          if (e->tags.size() > 5)
            e->tags.erase(e->tags.begin());
          e->tags.push_back(std::int32_t(rng() % 1000));
        }
        break;
      default: // in-place scalar edit
        if (Entry *e = *slot)
          e->version += 10;
      }
    }
    std::uint64_t epoch = checksync::checkpoint();
    if (!checksync::wait_durable(epoch))
      return 3;
    checksync::checkpoint_stats st = checksync::last_checkpoint_stats();
    if (st.full) {
      ++fulls;
    } else {
      ++deltas;
      max_delta_objects = std::max<std::uint64_t>(max_delta_objects, st.objects);
    }
    std::printf("acknowledged %s\n", digest().c_str());
  }
  std::printf("checkpoints full=%llu delta=%llu max_delta_objects=%llu live=%llu\n",
              (unsigned long long)fulls, (unsigned long long)deltas,
              (unsigned long long)max_delta_objects, (unsigned long long)(table->size + 1));
  std::fflush(stdout);
  // Unacknowledged work, then the kill.
  for (int b = 0; b < 256; ++b)
    table->buckets[b] = nullptr;
  std::raise(SIGKILL);
}
