// std::make_unique, class template members, inline members and lambdas are
// rewritten too (their instantiations reach the plugin before codegen).
// RUN: %clangxx -std=c++20 -O0 -S -emit-llvm -fplugin=%plugin %s -o - | FileCheck %s --check-prefixes=CHECK,O0
// RUN: %clangxx -std=c++20 -O0 -S -emit-llvm -fplugin=%plugin %s -o - | FileCheck %s --check-prefix=O0ALL
// RUN: %clangxx -std=c++20 -O2 -S -emit-llvm -fplugin=%plugin %s -o - | FileCheck %s --check-prefixes=CHECK,O2
#include <memory>

struct [[checksync::persistent]] Node {
  long key = 0;
  Node *next = nullptr;
  // An inline member allocating its own type.
  Node *push(long k) { return new Node{k, this}; }
};

template <class T> struct [[checksync::persistent]] Box {
  T value;
  Box *next;
};

template <class T> struct Factory {
  T *make() { return new T(); }
};

// CHECK-NOT: checksync.new.
// CHECK-LABEL: define {{.*}} @_Z5viaMUv(
// O2: call noalias {{.*}}nonnull {{.*}}ptr @checksync_rt_new(ptr {{.*}}@checksync.types, i64 16)
// O0: call void @_ZSt11make_uniqueI4NodeJEENSt8__detail9_MakeUniqIT_E15__single_objectEDpOT0_(
std::unique_ptr<Node> viaMU() { return std::make_unique<Node>(); }

// CHECK-LABEL: define {{.*}} @_Z10viaFactoryv(
// O2: call noalias {{.*}}nonnull {{.*}}ptr @checksync_rt_new(ptr {{.*}}@checksync.type.3BoxIlE{{.*}}, i64 16)
// O0: call {{.*}} @_ZN7FactoryI3BoxIlEE4makeEv(
Box<long> *viaFactory() { return Factory<Box<long>>().make(); }

// CHECK-LABEL: define {{.*}} @_Z9viaInlineP4Node(
// O2: call noalias {{.*}}nonnull {{.*}}ptr @checksync_rt_new(ptr {{.*}}@checksync.types, i64 16)
// O0: call {{.*}} @_ZN4Node4pushEl(
Node *viaInline(Node *n) { return n->push(7); }

// CHECK-LABEL: define {{.*}} @_Z9viaLambdav(
// O2: call noalias {{.*}}nonnull {{.*}}ptr @checksync_rt_new(
Node *viaLambda() {
  auto f = [] { return new Node; };
  return f();
}

// At -O0 the out-of-line instantiations carry the rewritten call.
// O0ALL-NOT: _Znwm
// O0ALL-DAG: define linkonce_odr {{.*}} @_ZSt11make_uniqueI4NodeJEE{{.*}} {
// O0ALL-DAG: define linkonce_odr {{.*}} @_ZN7FactoryI3BoxIlEE4makeEv(
// O0ALL-DAG: define linkonce_odr {{.*}} @_ZN4Node4pushEl(
// O0ALL-DAG: call noalias nonnull ptr @checksync_rt_new(ptr @checksync.type.4Node, i64 16)
// O0ALL-DAG: call noalias nonnull ptr @checksync_rt_new(ptr @checksync.type.3BoxIlE, i64 16)
// O0ALL-NOT: _Znwm
