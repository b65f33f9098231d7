// delete is not rewritten: the runtime replaces the global operator delete.
// RUN: %clangxx -std=c++20 -O2 -S -emit-llvm -fplugin=%plugin %s -o - | FileCheck %s

struct [[checksync::persistent]] Node {
  long key;
  Node *next;
};

// CHECK-LABEL: define {{.*}} @_Z8deleteItP4Node(
// CHECK: call void @_ZdlPv{{m?}}(ptr {{.*}}%0
void deleteIt(Node *n) { delete n; }

// CHECK-LABEL: define {{.*}} @_Z13deleteArrayItP4Node(
// CHECK: call void @_ZdaPv(ptr {{.*}}%0
void deleteArrayIt(Node *n) { delete[] n; }
