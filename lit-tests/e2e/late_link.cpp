// An object allocated before a full checkpoint but unreachable then, linked in
// after it, must be in the delta that links it (the chain stays closed under
// references): here a lone Link, then a chain of three that were allocated,
// written and left unreachable over several checkpoints, then linked by a
// root. Every acknowledged checkpoint resumes.
//
// RUN: %cs_cxx %s -o %t %cs_ldflags
// RUN: rm -rf %t.d && env CHECKSYNC_DIR=%t.d %t | FileCheck %s --check-prefix=RUN1
// RUN1: durable 1
// RUN1: durable 2
// RUN1: durable 3
// RUN1: durable 4
// RUN1: sum 42+1+6
// RUN: %csrt inspect %t.d | FileCheck %s --check-prefix=INSPECT
// INSPECT: state at epoch 4
// RUN: %csrt resume --from %t.d -- %t | FileCheck %s --check-prefix=RESUMED
// RESUMED: resumed sum 42+1+6
// The correctness oracle agrees, and so does the -O0 build.
// RUN: rm -rf %t.v && env CHECKSYNC_DIR=%t.v CHECKSYNC_VERIFY=1 %t | FileCheck %s --check-prefix=RUN1
// RUN: %clangxx -std=c++20 -O0 $(%prefix/bin/checksync-config --cxxflags) %s -o %t0 %cs_ldflags
// RUN: rm -rf %t.d0 && env CHECKSYNC_DIR=%t.d0 %t0 > /dev/null
// RUN: %csrt resume --from %t.d0 -- %t0 | FileCheck %s --check-prefix=RESUMED
#include <checksync/checksync.h>

#include <cstdio>
#include <cstdlib>

struct [[checksync::persistent]] Link {
  long value;
  Link *next;
};
[[checksync::root]] Link *head = nullptr;
[[checksync::root]] Link *other = nullptr;

static long sum(const Link *p) {
  long s = 0;
  for (; p; p = p->next)
    s += p->value;
  return s;
}

static void durable(std::uint64_t e) {
  if (!checksync::wait_durable(e)) {
    std::printf("epoch %llu not durable\n", (unsigned long long)e);
    std::exit(1);
  }
  std::printf("durable %llu\n", (unsigned long long)e);
}

int main() {
  checksync::init();
  if (checksync::resumed()) {
    std::printf("resumed sum %ld+%ld+%ld\n", head->next->value, head->value, sum(other));
    return 0;
  }
  Link *a = new Link{42, nullptr};
  Link *c = new Link{3, nullptr};
  Link *b = new Link{2, c};
  head = new Link{1, nullptr};
  durable(checksync::checkpoint()); // full: a, b, c unreachable
  head->next = a;                   // a becomes reachable
  durable(checksync::checkpoint());
  c->value = 3; // written while unreachable: in a delta as garbage
  durable(checksync::checkpoint());
  other = new Link{1, b}; // b and c become reachable through a new object
  durable(checksync::checkpoint());
  std::printf("sum %ld+%ld+%ld\n", head->next->value, head->value, sum(other));
}
