// delete in an instrumented unit calls the runtime's checksync_rt_<name> of
// each operator delete (which passes what is not persistent on to the
// program's own operator delete, so sanitizers' definitions work); the
// runtime's weak replacement of the global family covers other units.
// RUN: %clangxx -std=c++20 -O2 -S -emit-llvm -fplugin=%plugin %s -o - | FileCheck %s

struct [[checksync::persistent]] Node {
  long key;
  Node *next;
};

// CHECK-LABEL: define {{.*}} @_Z8deleteItP4Node(
// CHECK: call void @checksync_rt_ZdlPv{{m?}}(ptr {{.*}}%0
void deleteIt(Node *n) { delete n; }

// CHECK-LABEL: define {{.*}} @_Z13deleteArrayItP4Node(
// CHECK: call void @checksync_rt_ZdaPv(ptr {{.*}}%0
void deleteArrayIt(Node *n) { delete[] n; }
