// A ref to something that is not a persistent object made with new (a local,
// an interior pointer) makes checkpoint() throw checksync::error naming the
// object and field; no checkpoint is written.
//
// RUN: %cs_cxx %s -o %t %cs_ldflags
// RUN: rm -rf %t.d && env CHECKSYNC_DIR=%t.d %t | FileCheck %s
// CHECK: error: checkpoint failed: object #{{[0-9]+}} (Link) field next = 0x{{[0-9a-f]+}} does not point to a persistent object made with new
// CHECK: error: checkpoint failed: root head = 0x{{[0-9a-f]+}} points into the middle of a persistent object or to a freed one
// CHECK: good epoch 1
// RUN: %csrt inspect %t.d | FileCheck %s --check-prefix=ONE
// ONE: epochs 1
#include <checksync/checksync.h>

#include <cstdio>

struct [[checksync::persistent]] Link {
  long value;
  Link *next;
};
[[checksync::root]] Link *head = nullptr;

int main() {
  checksync::init();
  Link local{};
  head = new Link{};
  head->next = &local;
  try {
    checksync::checkpoint();
  } catch (const checksync::error &e) {
    std::printf("error: %s\n", e.what());
  }
  head->next = nullptr;
  Link *arr = new Link[4];
  Link *saved = head;
  head = &arr[2];
  try {
    checksync::checkpoint();
  } catch (const checksync::error &e) {
    std::printf("error: %s\n", e.what());
  }
  head = saved;
  std::uint64_t e = checksync::checkpoint();
  checksync::wait_durable(e);
  std::printf("good epoch %llu\n", (unsigned long long)e);
}
