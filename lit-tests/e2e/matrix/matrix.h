// matrix.h - the program protocol of the end-to-end test matrix (matrix.py).
//
// A matrix program includes this header and defines three functions:
//
//   void mx_round(std::uint64_t seed, std::uint64_t round, mx::Rng &rng);
//       applies round `round`'s mutations to the persistent state. Everything
//       it does must follow from (seed, round) and the persistent state alone
//       (rng is seeded from both), so a resumed process continues the very
//       history an uninterrupted one has.
//   void mx_digest(mx::Digest &d);
//       folds the whole reachable persistent state into d in a canonical
//       order, independent of addresses (objects are numbered in discovery
//       order with d.ref), floating-point values by their bit patterns.
//   void mx_resumed(std::uint64_t seed, std::uint64_t round);
//       called after a restore, before the resumed digest is taken: re-creates
//       program state that is deliberately not persistent (objects held only
//       through transient pointers, which a checkpoint does not contain) from
//       (seed, round). Most programs leave it empty.
//
// This header provides main():
//
//   prog SEED TOTAL [--kill-at R] [--first-checkpoint R] [--sleep-ms N] [--no-checkpoint]
//        [--no-wait]
//
// A fresh run prints `round 0 digest D objects N`; each round r = 1..TOTAL
// applies mx_round, prints `round r digest D objects N` (the state the
// checkpoint is about to take), checkpoints (from --first-checkpoint on;
// never with --no-checkpoint), waits until it is durable and prints
// `durable r`. A resumed run first prints `resumed R digest D objects N`, then
// continues from round R+1 to TOTAL. --kill-at R: after `durable R` the
// program applies round R+1 (unacknowledged: no checkpoint) and SIGKILLs
// itself. --no-wait: waits (and prints `durable r`) only at round R of
// --kill-at and at TOTAL, so each round's writes race with the encoding of
// the previous round's checkpoint. Errors print a line starting with
// `error:` and exit non-zero.
#ifndef CHECKSYNC_MATRIX_H
#define CHECKSYNC_MATRIX_H

#include <checksync/checksync.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <thread>
#include <unordered_map>

namespace mx {

inline std::uint64_t bits(double d) {
  std::uint64_t b;
  std::memcpy(&b, &d, 8);
  return b;
}
inline std::uint32_t bits(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}
inline double f64(std::uint64_t b) {
  double d;
  std::memcpy(&d, &b, 8);
  return d;
}
inline float f32(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

// Whole numbers, signed zeros, NaNs with payloads, infinities, denormals,
// extremes: the values an encoder may be tempted to shorten or normalise.
inline constexpr std::uint64_t kSpecialDoubles[] = {
    0x0000000000000000ull, // 0.0
    0x8000000000000000ull, // -0.0
    0x3ff0000000000000ull, // 1.0
    0xbff0000000000000ull, // -1.0
    0x4000000000000000ull, // 2.0
    0x4059000000000000ull, // 100.0
    0x4340000000000000ull, // 2^53
    0xc3e0000000000000ull, // -2^63
    0x43f0000000000000ull, // 2^64
    0x3fe0000000000000ull, // 0.5
    0x7ff0000000000000ull, // +Inf
    0xfff0000000000000ull, // -Inf
    0x7ff8000000000000ull, // quiet NaN
    0x7ff8dead0000beefull, // quiet NaN with payload
    0xfff8000000000123ull, // negative NaN with payload
    0x7ff4000000000001ull, // signalling NaN with payload
    0x0000000000000001ull, // smallest denormal
    0x800fffffffffffffull, // largest negative denormal
    0x0010000000000000ull, // smallest normal
    0x7fefffffffffffffull, // largest finite
    0x3fb999999999999aull, // 0.1
};
inline constexpr std::uint32_t kSpecialFloats[] = {
    0x00000000u, 0x80000000u, 0x3f800000u, 0xbf800000u, 0x4b800000u /* 2^24 */,
    0x7f800000u, 0xff800000u, 0x7fc00000u, 0x7fc0beefu, 0xffc12345u, 0x7fa00001u /* sNaN */,
    0x00000001u, 0x807fffffu, 0x00800000u, 0x7f7fffffu, 0x3dcccccdu /* 0.1f */,
};

// splitmix64 over (seed, round, stream): the same numbers in every process.
struct Rng {
  std::uint64_t s;
  Rng(std::uint64_t seed, std::uint64_t round, std::uint64_t stream = 0)
      : s(seed * 0x9e3779b97f4a7c15ull ^ (round + 1) * 0xd1b54a32d192ed03ull ^
          (stream + 7) * 0x94d049bb133111ebull) {
    next();
  }
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return n ? next() % n : 0; }
  bool chance(unsigned percent) { return below(100) < percent; }
  double special_double() {
    if (chance(30))
      return double(std::int64_t(next() % 2000001) - 1000000) / 64.0; // ordinary
    return f64(kSpecialDoubles[below(std::size(kSpecialDoubles))]);
  }
  float special_float() {
    if (chance(30))
      return float(std::int32_t(next() % 20001) - 10000) / 16.0f;
    return f32(kSpecialFloats[below(std::size(kSpecialFloats))]);
  }
  // Bytes of every kind: empty, short, SSO-sized, long, NULs, invalid UTF-8.
  std::string bytes(std::size_t max_len = 64) {
    std::string s(below(max_len + 1), '\0');
    for (auto &c : s)
      c = char(next());
    if (!s.empty() && chance(50))
      s[below(s.size())] = '\0';
    if (s.size() > 2 && chance(50)) {
      s[0] = char(0xc0); // overlong NUL, never valid UTF-8
      s[1] = char(0x80);
    }
    return s;
  }
};

// Folds a state into 64 bits; objects are numbered in discovery order.
struct Digest {
  std::uint64_t h = 0xcbf29ce484222325ull;
  std::uint64_t objects = 0;
  std::unordered_map<const void *, std::uint64_t> ids;
  std::FILE *trace = nullptr; // every folded value, one per line (MX_TRACE)
  void u(std::uint64_t v) {
    if (trace)
      std::fprintf(trace, "%016llx\n", (unsigned long long)v);
    h = (h ^ v) * 0x100000001b3ull;
    h ^= h >> 29;
  }
  void i(std::int64_t v) { u(std::uint64_t(v)); }
  void f(double v) { u(bits(v)); }
  void f(float v) { u(0xf10a700000000000ull | bits(v)); }
  void bytes(const void *p, std::size_t n) {
    u(n);
    const unsigned char *c = static_cast<const unsigned char *>(p);
    for (std::size_t k = 0; k < n; ++k)
      u(c[k]);
  }
  void str(const std::string &s) { bytes(s.data(), s.size()); }
  // Folds the object's number; true the first time p is seen (visit it then).
  bool ref(const void *p) {
    if (!p) {
      u(0);
      return false;
    }
    auto [it, fresh] = ids.emplace(p, ids.size() + 1);
    u(it->second);
    objects += fresh;
    return fresh;
  }
};

} // namespace mx

void mx_round(std::uint64_t seed, std::uint64_t round, mx::Rng &rng);
void mx_digest(mx::Digest &d);
void mx_resumed(std::uint64_t seed, std::uint64_t round);

[[checksync::root]] std::uint64_t mx_round_no = 0;
[[checksync::root]] std::uint64_t mx_seed = 0;

#ifdef MX_UPGRADE
// A newer build of the program (matrix mode upgrade): it adds a persistent
// type and two roots that the checkpoints of the older build do not have.
// The digest does not fold them: the history is the same program's.
struct [[checksync::persistent]] MxRelease {
  std::int32_t version = 2;
  std::string name = "v2";
};
[[checksync::root]] MxRelease *mx_release = nullptr;
[[checksync::root]] std::int64_t mx_upgraded_at = -1;

namespace mx {
// After a resume: the first resume into this build finds the added roots at
// their initial values and records the upgrade; later ones find it intact.
inline void check_upgrade() {
  if (!mx_release) {
    if (mx_upgraded_at != -1)
      std::printf("error: added root mx_upgraded_at is %lld, not its initial value\n",
                  (long long)mx_upgraded_at);
    mx_release = new MxRelease;
    mx_upgraded_at = std::int64_t(mx_round_no);
    std::printf("upgrade: resumed round %llu into release %d '%s'\n",
                (unsigned long long)mx_round_no, mx_release->version, mx_release->name.c_str());
  } else if (mx_release->version != 2 || mx_release->name != "v2" || mx_upgraded_at < 0) {
    std::printf("error: the upgrade record did not survive: version %d name '%s' at %lld\n",
                mx_release->version, mx_release->name.c_str(), (long long)mx_upgraded_at);
  } else {
    std::printf("upgrade: release %d '%s' since round %lld\n", mx_release->version,
                mx_release->name.c_str(), (long long)mx_upgraded_at);
  }
}
} // namespace mx
#endif

namespace mx {
// MX_TRACE=FILE MX_TRACE_ROUND=R: the values the digest of round R folds go
// to FILE (to find the first difference between two runs' states).
inline void print_state(const char *what) {
  Digest d;
  const char *trace = std::getenv("MX_TRACE"), *at = std::getenv("MX_TRACE_ROUND");
  if (trace && at && std::strtoull(at, nullptr, 10) == mx_round_no)
    d.trace = std::fopen(trace, "w");
  d.u(mx_round_no);
  mx_digest(d);
  if (d.trace)
    std::fclose(d.trace);
  std::printf("%s %llu digest %016llx objects %llu\n", what, (unsigned long long)mx_round_no,
              (unsigned long long)d.h, (unsigned long long)d.objects);
  std::fflush(stdout);
}
} // namespace mx

int main(int argc, char **argv) {
  checksync::init();
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s SEED TOTAL [--kill-at R] [--first-checkpoint R] "
                         "[--sleep-ms N] [--no-checkpoint]\n", argv[0]);
    return 2;
  }
  std::uint64_t seed = std::strtoull(argv[1], nullptr, 10);
  std::uint64_t total = std::strtoull(argv[2], nullptr, 10);
  std::uint64_t kill_at = 0, first_checkpoint = 1, sleep_ms = 0;
  bool checkpoints = true, wait_each = true;
  for (int a = 3; a < argc; ++a) {
    std::string arg = argv[a];
    auto value = [&] { return a + 1 < argc ? std::strtoull(argv[++a], nullptr, 10) : 0ull; };
    if (arg == "--kill-at")
      kill_at = value();
    else if (arg == "--first-checkpoint")
      first_checkpoint = value();
    else if (arg == "--sleep-ms")
      sleep_ms = value();
    else if (arg == "--no-checkpoint")
      checkpoints = false;
    else if (arg == "--no-wait")
      wait_each = false;
    else {
      std::printf("error: unknown argument %s\n", arg.c_str());
      return 2;
    }
  }
  if (checksync::resumed()) {
    if (mx_seed != seed) {
      std::printf("error: resumed a run of seed %llu, asked for seed %llu\n",
                  (unsigned long long)mx_seed, (unsigned long long)seed);
      return 7;
    }
    mx_resumed(seed, mx_round_no);
    mx::print_state("resumed");
#ifdef MX_UPGRADE
    mx::check_upgrade();
#endif
  } else {
    mx_seed = seed;
    mx_round_no = 0;
    mx::print_state("round");
  }
  while (mx_round_no < total) {
    std::uint64_t r = mx_round_no + 1;
    mx::Rng rng(seed, r);
    mx_round(seed, r, rng);
    mx_round_no = r;
    mx::print_state("round");
    if (checkpoints && r >= first_checkpoint) {
      std::uint64_t epoch = 0;
      try {
        epoch = checksync::checkpoint();
      } catch (const std::exception &e) {
        std::printf("error: checkpoint of round %llu threw: %s\n", (unsigned long long)r,
                    e.what());
        return 8;
      }
      bool wait = wait_each || r == kill_at || r == total;
      if (wait && !checksync::wait_durable(epoch)) {
        std::printf("error: round %llu (epoch %llu) not durable\n", (unsigned long long)r,
                    (unsigned long long)epoch);
        return 6;
      }
      if (wait) {
        std::printf("durable %llu\n", (unsigned long long)r);
        std::fflush(stdout);
      }
    }
    if (r == kill_at) {
      // Unacknowledged work the resumed state must not contain, then the kill.
      mx::Rng next(seed, r + 1);
      mx_round(seed, r + 1, next);
      mx_round_no = r + 1;
      std::raise(SIGKILL);
    }
    if (sleep_ms)
      std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
  }
  return 0;
}

#endif
