// Over-aligned persistent objects keep their alignment, fresh and resumed.
//
// RUN: %cs_cxx %s -o %t %cs_ldflags
// RUN: rm -rf %t.d && env CHECKSYNC_DIR=%t.d %t | FileCheck %s --check-prefix=FRESH
// RUN: %csrt resume --from %t.d -- %t | FileCheck %s --check-prefix=RESUMED
// FRESH: fresh aligned=1 sum=28
// RESUMED: resumed aligned=1 sum=28
#include <checksync/checksync.h>

#include <cstdint>
#include <cstdio>

struct alignas(128) [[checksync::persistent]] Line {
  std::int64_t words[8];
  Line *next;
};
[[checksync::root]] Line *lines = nullptr;

int main() {
  checksync::init();
  if (!checksync::resumed()) {
    for (int i = 0; i < 8; ++i) {
      Line *l = new Line{};
      l->words[i] = i;
      l->next = lines;
      lines = l;
    }
    checksync::wait_durable(checksync::checkpoint());
  }
  bool aligned = true;
  std::int64_t sum = 0;
  for (Line *l = lines; l; l = l->next) {
    aligned &= reinterpret_cast<std::uintptr_t>(l) % 128 == 0;
    for (auto w : l->words)
      sum += w;
  }
  std::printf("%s aligned=%d sum=%lld\n", checksync::resumed() ? "resumed" : "fresh", aligned,
              (long long)sum);
}
