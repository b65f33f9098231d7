// Floating-point values keep their exact kind and bits through deltas and
// compaction (which re-encodes the chain into a new base): whole numbers,
// -0.0, NaN payloads, infinities and denormals, in fields, arrays, roots and
// library values, signalling NaNs included. msgpack-c's generic packing turned 1.0 into the integer 1,
// after which resume refused the store.
//
// RUN: %cs_cxx %s -o %t %cs_ldflags
// RUN: rm -rf %t.d && env CHECKSYNC_DIR=%t.d CHECKSYNC_COMPACT_AFTER=1 %t > %t.first
// RUN: %csrt inspect %t.d | FileCheck %s --check-prefix=COMPACTED
// COMPACTED: epoch {{([2-9]|[1-9][0-9]+)}} full
// RUN: %csrt resume --from %t.d -- %t > %t.second
// RUN: grep '^bits' %t.first > %t.want && grep '^bits' %t.second > %t.got && diff %t.want %t.got
// RUN: rm -rf %t.v && env CHECKSYNC_DIR=%t.v CHECKSYNC_COMPACT_AFTER=1 CHECKSYNC_VERIFY=1 %t > /dev/null
#include <checksync/checksync.h>

#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <thread>
#include <vector>

struct [[checksync::persistent]] Sample {
  double d[10];
  float f[6];
  double one;
  std::vector<double> dv;
  std::vector<float> fv;
  std::map<std::string, double> named;
};
[[checksync::root]] Sample *sample = nullptr;
[[checksync::root]] double root_values[4] = {};
[[checksync::root]] int rounds = 0;

static double dbits(std::uint64_t b) { double d; std::memcpy(&d, &b, 8); return d; }
static float fbits(std::uint32_t b) { float f; std::memcpy(&f, &b, 4); return f; }
static std::uint64_t bits(double d) { std::uint64_t b; std::memcpy(&b, &d, 8); return b; }
static std::uint32_t bits(float f) { std::uint32_t b; std::memcpy(&b, &f, 4); return b; }

static const double kDoubles[10] = {0.0, -0.0, 1.0, dbits(0x7ff4000000000001ull), 2.0, dbits(0x7ff8000000000123ull),
                                    std::numeric_limits<double>::infinity(),
                                    -std::numeric_limits<double>::infinity(),
                                    std::numeric_limits<double>::denorm_min(), 1e300};
static const float kFloats[6] = {0.0f, -0.0f, 3.0f, fbits(0x7fa00123u),
                                 -std::numeric_limits<float>::infinity(),
                                 std::numeric_limits<float>::denorm_min()};

static void print() {
  std::printf("bits one %016" PRIx64 "\n", bits(sample->one));
  for (double d : sample->d)
    std::printf("bits d %016" PRIx64 "\n", bits(d));
  for (float f : sample->f)
    std::printf("bits f %08" PRIx32 "\n", bits(f));
  for (double d : sample->dv)
    std::printf("bits dv %016" PRIx64 "\n", bits(d));
  for (float f : sample->fv)
    std::printf("bits fv %08" PRIx32 "\n", bits(f));
  for (auto &[k, v] : sample->named)
    std::printf("bits named %s %016" PRIx64 "\n", k.c_str(), bits(v));
  for (double d : root_values)
    std::printf("bits root %016" PRIx64 "\n", bits(d));
  std::printf("bits rounds %d\n", rounds);
}

int main() {
  checksync::init();
  if (checksync::resumed()) {
    print();
    return 0;
  }
  sample = new Sample{};
  for (int i = 0; i < 10; ++i)
    sample->d[i] = kDoubles[i];
  for (int i = 0; i < 6; ++i)
    sample->f[i] = kFloats[i];
  sample->dv.assign(kDoubles, kDoubles + 10);
  sample->fv.assign(kFloats, kFloats + 6);
  sample->named = {{"zero", 0.0}, {"minus_zero", -0.0}, {"one", 1.0}, {"nan", kDoubles[5]}};
  for (int i = 0; i < 4; ++i)
    root_values[i] = kDoubles[i + 1];
  for (int r = 0; r < 6; ++r) {
    rounds = r;
    sample->one = double(r); // whole numbers in every delta
    if (!checksync::wait_durable(checksync::checkpoint()))
      return 1;
    std::this_thread::sleep_for(std::chrono::milliseconds(30)); // let the compactor run
  }
  print();
}
