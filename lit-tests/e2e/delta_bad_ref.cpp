// A bad ref written after the first checkpoint (into a delta) makes
// checkpoint() throw checksync::error as a full checkpoint does, never crash:
// a ref to a global, to a freed object. After the error the program fixes its
// state and goes on; every acknowledged checkpoint resumes. An unreachable
// object holding a dangling ref is garbage: the delta is taken without it
// (with a note: telling costs a marking from the roots), as a full
// checkpoint would have ignored it too.
//
// RUN: %cs_cxx %s -o %t %cs_ldflags
// RUN: rm -rf %t.d && env CHECKSYNC_DIR=%t.d %t 2> %t.err | FileCheck %s
// RUN: FileCheck %s --check-prefix=NOTE < %t.err
// CHECK: durable 1
// CHECK: error: checkpoint failed: object #{{[0-9]+}} (Link) field next = 0x{{[0-9a-f]+}} does not point into a persistent object made with new
// CHECK: error: checkpoint failed: object #{{[0-9]+}} (Link) field next = 0x{{[0-9a-f]+}} points to a freed persistent object
// CHECK: error: checkpoint failed: root head = 0x{{[0-9a-f]+}} points to a freed persistent object
// CHECK: durable {{[0-9]+}} full 1
// CHECK: durable {{[0-9]+}} full 0
// CHECK: durable {{[0-9]+}} full 0
// CHECK: value 7
// NOTE: checksync: warning: checkpoint {{[0-9]+}} marked the heap from the roots (a pause proportional to the heap): an object on a written card is unreachable and object #{{[0-9]+}} (Link) field next = 0x{{[0-9a-f]+}} does not point into a persistent object made with new{{.*}}; that ref is stored as null
// RUN: %csrt resume --from %t.d -- %t | FileCheck %s --check-prefix=RESUMED
// RESUMED: resumed value 7
#include <checksync/checksync.h>

#include <cstdio>
#include <cstdlib>

struct [[checksync::persistent]] Link {
  long value;
  Link *next;
};
[[checksync::root]] Link *head = nullptr;
Link global_link{5, nullptr}; // a persistent type, but not made with new
Link *volatile unrooted;      // keeps garbage from being optimised away

static void durable(std::uint64_t e) {
  if (!checksync::wait_durable(e))
    std::exit(1);
  std::printf("durable %llu full %d\n", (unsigned long long)e,
              int(checksync::last_checkpoint_stats().full));
}

static void expect_error() {
  try {
    checksync::checkpoint();
    std::printf("no error\n");
    std::exit(1);
  } catch (const checksync::error &e) {
    std::printf("error: %s\n", e.what());
  }
}

int main() {
  checksync::init();
  if (checksync::resumed()) {
    std::printf("resumed value %ld\n", head->value + head->next->value);
    return 0;
  }
  head = new Link{1, nullptr};
  durable(checksync::checkpoint());
  head->next = &global_link;
  expect_error();
  Link *gone = new Link{2, nullptr};
  delete gone;
  head->next = gone;
  expect_error();
  Link *doomed = new Link{3, nullptr};
  head = doomed;
  delete doomed;
  expect_error();
  head = new Link{3, new Link{4, nullptr}};
  durable(checksync::checkpoint()); // after an error: full
  head->next->value = 4;
  durable(checksync::checkpoint()); // a delta again
  Link *garbage = new Link{9, nullptr};
  garbage->next = &global_link; // unreachable: ignored
  unrooted = garbage;
  durable(checksync::checkpoint());
  std::printf("value %ld\n", head->value + head->next->value);
}
