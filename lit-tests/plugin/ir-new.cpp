// Every form of new-expression of a persistent type calls checksync_rt_new
// with the type's descriptor, at -O0 and -O2; other news are untouched.
// RUN: %clangxx -std=c++20 -O0 -S -emit-llvm -fplugin=%plugin %s -o - | FileCheck %s --check-prefixes=CHECK,O0
// RUN: %clangxx -std=c++20 -O2 -S -emit-llvm -fplugin=%plugin %s -o - | FileCheck %s --check-prefixes=CHECK,O2

struct [[checksync::persistent]] Node {
  long key;
  Node *next;
  Node() = default;
  Node(long k, Node *n) : key(k), next(n) {}
};
struct [[checksync::persistent]] Pair {
  int a, b;
};

// CHECK-LABEL: define {{.*}} @_Z5plainv(
// CHECK: call noalias {{.*}}nonnull {{.*}}ptr @checksync_rt_new(ptr {{.*}}@checksync.type{{[^,]*}}, i64 16)
// CHECK-NOT: _Znwm
// CHECK: ret
Node *plain() { return new Node; }

// CHECK-LABEL: define {{.*}} @_Z4bracv(
// CHECK: call noalias {{.*}}nonnull {{.*}}ptr @checksync_rt_new(ptr {{.*}}, i64 8)
// CHECK: ret
Pair *brac() { return new Pair{1, 2}; }

// CHECK-LABEL: define {{.*}} @_Z4argsl(
// CHECK: call noalias {{.*}}nonnull {{.*}}ptr @checksync_rt_new(ptr {{.*}}, i64 16)
// O0: invoke void @_ZN4NodeC{{[12]}}ElPS_(
// If the constructor throws, the memory goes back through operator delete.
// O0: call void @checksync_rt_ZdlPv
// O2-NOT: icmp eq ptr
// CHECK: ret
Node *args(long k) { return new Node(k, nullptr); }

// The size is n * sizeof(Node) (no cookie: Node is trivially destructible).
// CHECK-LABEL: define {{.*}} @_Z5arrayi(
// O0: @llvm.umul.with.overflow.i64(i64 %{{.*}}, i64 16)
// O2: shl {{.*}} 4
// CHECK: call noalias {{.*}}nonnull {{.*}}ptr @checksync_rt_new(ptr {{.*}}, i64 %
// CHECK: ret
Node *array(int n) { return new Node[n]; }

// CHECK-LABEL: define {{.*}} @_Z6globalv(
// CHECK: call noalias {{.*}}nonnull {{.*}}ptr @checksync_rt_new(
// CHECK: ret
Node *global() { return ::new Node(); }

// CHECK-LABEL: define {{.*}} @_Z10notTrackedv(
// CHECK: call {{.*}}@_Znwm(i64 {{.*}}4)
// CHECK-NOT: checksync_rt_new
// CHECK: ret
int *notTracked() { return new int(3); }

// The placeholders are gone.
// CHECK-NOT: checksync.new.
// CHECK: declare noalias nonnull ptr @checksync_rt_new(ptr, i64) {{.*}}#[[RTNEW:[0-9]+]]
// CHECK: attributes #[[RTNEW]] = {{.*}}allocsize(1)
