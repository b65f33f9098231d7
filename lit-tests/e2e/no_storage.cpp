// Without CHECKSYNC_DIR checkpoints are taken but stored nowhere: say so once,
// and wait_durable() reports false instead of pretending.
//
// RUN: %cs_cxx %s -o %t %cs_ldflags
// RUN: env -u CHECKSYNC_DIR %t 2>&1 | FileCheck %s
// CHECK: checksync: warning: CHECKSYNC_DIR is not set: checkpoints are not stored anywhere
// CHECK-NOT: CHECKSYNC_DIR is not set
// CHECK: durable=0 epochs=1,2
#include <checksync/checksync.h>

#include <cstdio>

struct [[checksync::persistent]] Cell {
  int value;
};
[[checksync::root]] Cell *cell = nullptr;

int main() {
  checksync::init();
  cell = new Cell{1};
  auto a = checksync::checkpoint();
  auto b = checksync::checkpoint();
  std::fflush(stderr);
  std::printf("durable=%d epochs=%llu,%llu\n", checksync::wait_durable(b),
              (unsigned long long)a, (unsigned long long)b);
}
