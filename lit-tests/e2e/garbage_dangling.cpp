// A chain carries garbage: objects written while unreachable (the program may
// link them in again, so deltas keep them). Garbage may legally point to an
// object deleted later. Resume, inspect and compaction check refs only in
// reachable objects, restore only those, and the next delta drops the rest.
//
// RUN: %cs_cxx %s -o %t %cs_ldflags
// RUN: rm -rf %t.d && env CHECKSYNC_DIR=%t.d CHECKSYNC_COMPACT_AFTER=1 %t 2>&1 | FileCheck %s
// CHECK-NOT: compaction failed
// CHECK: durable 3
// RUN: %csrt inspect %t.d | FileCheck %s --check-prefix=INSPECT
// INSPECT: state at epoch 3
// RUN: env CHECKSYNC_DIR=%t.d %csrt resume --from %t.d -- %t 2>&1 | FileCheck %s --check-prefix=RESUMED
// RESUMED: resumed head 10
// RESUMED: durable 4
// RUN: %csrt inspect --json %t.d | FileCheck %s --check-prefix=SHED
// SHED: "objects": 1,
#include <checksync/checksync.h>

#include <cstdio>
#include <cstdlib>

struct [[checksync::persistent]] Link {
  long value;
  Link *next;
};
[[checksync::root]] Link *head = nullptr;
Link *volatile unrooted; // garbage the optimiser must keep

static void durable(std::uint64_t e) {
  if (!checksync::wait_durable(e))
    std::exit(1);
  std::printf("durable %llu\n", (unsigned long long)e);
}

int main() {
  checksync::init();
  if (checksync::resumed()) {
    std::printf("resumed head %ld\n", head->value);
    durable(checksync::checkpoint());
    return 0;
  }
  head = new Link{10, nullptr};
  Link *target = new Link{20, nullptr};
  Link *garbage = new Link{30, target};
  unrooted = garbage;
  durable(checksync::checkpoint()); // full: garbage and target unreachable
  garbage->value = 31;              // written while unreachable: in the delta, with target
  durable(checksync::checkpoint());
  delete target; // garbage now dangles
  durable(checksync::checkpoint());
}
