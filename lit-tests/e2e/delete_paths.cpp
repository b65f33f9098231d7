// Every way of freeing a persistent object returns it to the runtime: delete,
// delete[], unique_ptr, and delete from a translation unit compiled without
// the plugin. The heap statistics in the checkpoint show nothing leaked.
//
// RUN: %cs_cxx -c %s -o %t.o
// RUN: %clangxx -std=c++20 -O2 -c -DUNINSTRUMENTED -x c++ %s -o %t.plain.o
// RUN: %clangxx %t.o %t.plain.o -o %t %cs_ldflags
// RUN: rm -rf %t.d && env CHECKSYNC_DIR=%t.d %t
// RUN: %csrt inspect %t.d | FileCheck %s
// The same at -O0.
// RUN: %cs_cxx -O0 -c %s -o %t.O0.o
// RUN: %clangxx %t.O0.o %t.plain.o -o %t.O0 %cs_ldflags
// RUN: rm -rf %t.O0.d && env CHECKSYNC_DIR=%t.O0.d %t.O0
// RUN: %csrt inspect %t.O0.d | FileCheck %s
// CHECK: heap at checkpoint: 1 live objects
// CHECK: Blob (size 24): 1 objects
#ifdef UNINSTRUMENTED
// No plugin, no checksync attributes: ordinary code handed a persistent object.
struct Blob;
void destroy_elsewhere(Blob *b);
struct Blob { long a, b, c; };
void destroy_elsewhere(Blob *b) { delete b; }
#else
#include <checksync/checksync.h>

#include <memory>

struct [[checksync::persistent]] Blob {
  long a, b, c;
};
void destroy_elsewhere(Blob *b);
[[checksync::root]] Blob *keep = nullptr;

int main() {
  checksync::init();
  keep = new Blob{1, 2, 3};
  delete new Blob{};
  delete[] new Blob[7];
  auto owned = std::make_unique<Blob>();
  owned.reset();
  std::unique_ptr<Blob[]> arr(new Blob[3]);
  arr.reset();
  destroy_elsewhere(new Blob{});
  for (int i = 0; i < 1000; ++i)
    delete new Blob{};
  checksync::wait_durable(checksync::checkpoint());
}
#endif
