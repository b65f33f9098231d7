// A ref to something that is not a persistent object made with new (a local,
// a freed object) makes checkpoint() throw checksync::error naming the object
// and field; no checkpoint is written. A pointer into an array made with
// new T[n] is fine (written as object id + offset).
//
// RUN: %cs_cxx %s -o %t %cs_ldflags
// RUN: rm -rf %t.d && env CHECKSYNC_DIR=%t.d %t | FileCheck %s
// CHECK: error: checkpoint failed: object #{{[0-9]+}} (Link) field next = 0x{{[0-9a-f]+}} does not point into a persistent object made with new
// CHECK: error: checkpoint failed: root head = 0x{{[0-9a-f]+}} points to a freed persistent object
// CHECK: good epoch 1 value 3
// RUN: %csrt inspect --objects %t.d | FileCheck %s --check-prefix=ONE
// ONE: epochs 1
// ONE: head = #{{[0-9]+}}+32
// RUN: %csrt resume --from %t.d -- %t resumed | FileCheck %s --check-prefix=RESUMED
// RESUMED: resumed value 3
#include <checksync/checksync.h>

#include <cstdio>

struct [[checksync::persistent]] Link {
  long value;
  Link *next;
};
[[checksync::root]] Link *head = nullptr;

int main(int argc, char **) {
  checksync::init();
  if (checksync::resumed()) {
    std::printf("resumed value %ld\n", head->value);
    return 0;
  }
  Link local{};
  head = new Link{};
  head->next = &local;
  try {
    checksync::checkpoint();
  } catch (const checksync::error &e) {
    std::printf("error: %s\n", e.what());
  }
  head->next = nullptr;
  Link *gone = new Link{};
  delete gone;
  Link *saved = head;
  head = gone;
  try {
    checksync::checkpoint();
  } catch (const checksync::error &e) {
    std::printf("error: %s\n", e.what());
  }
  delete saved;
  Link *arr = new Link[4];
  arr[2].value = 3;
  head = &arr[2]; // inside an array object: id + offset 32
  std::uint64_t e = checksync::checkpoint();
  checksync::wait_durable(e);
  std::printf("good epoch %llu value %ld\n", (unsigned long long)e, head->value);
}
