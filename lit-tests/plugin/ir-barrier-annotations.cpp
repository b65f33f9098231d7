// Every non-transient field of a persistent record gets the implicit
// annotation "checksync.field:<key>:<offset>", so clang emits
// llvm.ptr.annotation for each field address: free functions, this->x,
// base fields through a derived object, array elements, &p->x passed on,
// constructor initialisers, class template instantiations. Transient fields
// and non-persistent records get none. After the pipeline (-O0 and -O2) no
// annotation is left and the barrier is inlined everywhere.
// RUN: %clangxx -std=c++20 -O0 -S -emit-llvm -fplugin=%plugin %csinclude -Xclang -disable-llvm-passes %s -o - | FileCheck %s --check-prefix=ANN
// RUN: %clangxx -std=c++20 -O0 -S -emit-llvm -fplugin=%plugin %csinclude %s -o - | FileCheck %s --check-prefix=IR
// RUN: %clangxx -std=c++20 -O2 -S -emit-llvm -fplugin=%plugin %csinclude %s -o - | FileCheck %s --check-prefix=IR
// RUN: %clangxx -std=c++20 -O0 -S -emit-llvm -fplugin=%plugin %csinclude %s -o - | FileCheck %s --check-prefix=NONE
// RUN: %clangxx -std=c++20 -O2 -S -emit-llvm -fplugin=%plugin %csinclude %s -o - | FileCheck %s --check-prefix=NONE
// NONE-NOT: llvm.ptr.annotation
// NONE-NOT: @checksync.barrier
#include <checksync/checksync.h>

struct [[checksync::persistent]] Base { long b; };
struct [[checksync::persistent]] Node : Base {
  long key;                              // 8
  long arr[4];                           // 16
  [[checksync::transient]] long cache;   // 48
  Node(long k);
  void set(long k);
};
template <class T> struct [[checksync::persistent]] Box { T v; };
struct Plain { long p; };
void take(long *);

Node::Node(long k) : key(k) {}
void Node::set(long k) { key = k; }
void base(Node *n) { n->b = 1; }
void elem(Node *n, int i) { n->arr[i] = 2; }
void pass_on(Node *n) { take(&n->key); }
void transient(Node *n) { n->cache = 3; }
void box(Box<int> *x) { x->v = 4; }
void plain(Plain *p) { p->p = 5; }

// ANN-DAG: @[[KEY:.*]] = private unnamed_addr constant [{{[0-9]+}} x i8] c"checksync.field:4Node:8\00", section "llvm.metadata"
// ANN-DAG: @[[ARR:.*]] = private unnamed_addr constant [{{[0-9]+}} x i8] c"checksync.field:4Node:16\00", section "llvm.metadata"
// ANN-DAG: @[[B:.*]] = private unnamed_addr constant [{{[0-9]+}} x i8] c"checksync.field:4Base:0\00", section "llvm.metadata"
// ANN-DAG: @[[BOX:.*]] = private unnamed_addr constant [{{[0-9]+}} x i8] c"checksync.field:3BoxIiE:0\00", section "llvm.metadata"
// ANN-DAG: @[[TR:.*]] = private unnamed_addr constant [{{[0-9]+}} x i8] c"checksync.transient\00", section "llvm.metadata"
// ANN-NOT: checksync.field:4Node:48
// ANN-LABEL: define {{.*}}@_ZN4NodeC2El(
// ANN: call ptr @llvm.ptr.annotation.p0.p0(ptr %{{.*}}, ptr @[[KEY]],
// ANN-LABEL: define {{.*}}@_ZN4Node3setEl(
// ANN: call ptr @llvm.ptr.annotation.p0.p0(ptr %{{.*}}, ptr @[[KEY]],
// ANN-LABEL: define {{.*}}@_Z4baseP4Node(
// ANN: call ptr @llvm.ptr.annotation.p0.p0(ptr %{{.*}}, ptr @[[B]],
// ANN-LABEL: define {{.*}}@_Z4elemP4Nodei(
// ANN: call ptr @llvm.ptr.annotation.p0.p0(ptr %{{.*}}, ptr @[[ARR]],
// ANN-LABEL: define {{.*}}@_Z7pass_onP4Node(
// ANN: call ptr @llvm.ptr.annotation.p0.p0(ptr %{{.*}}, ptr @[[KEY]],
// ANN-LABEL: define {{.*}}@_Z9transientP4Node(
// ANN: call ptr @llvm.ptr.annotation.p0.p0(ptr %{{.*}}, ptr @[[TR]],
// ANN-LABEL: define {{.*}}@_Z3boxP3BoxIiE(
// ANN: call ptr @llvm.ptr.annotation.p0.p0(ptr %{{.*}}, ptr @[[BOX]],
// ANN-LABEL: define {{.*}}@_Z5plainP5Plain(
// ANN-NOT: llvm.ptr.annotation
// ANN: {{^}}}

// IR-NOT: llvm.ptr.annotation
// IR-NOT: checksync.field:
// IR-NOT: call void @checksync.barrier
// IR-LABEL: define {{.*}}@_ZN4NodeC2El(
// IR: load i64, ptr @checksync_rt_cards
// IR: store atomic i8 1
// IR-LABEL: define {{.*}}@_ZN4Node3setEl(
// IR: load i64, ptr @checksync_rt_cards
// IR: store atomic i8 1
// IR-LABEL: define {{.*}}@_Z4baseP4Node(
// IR: load i64, ptr @checksync_rt_cards
// IR-LABEL: define {{.*}}@_Z4elemP4Nodei(
// IR: load i64, ptr @checksync_rt_cards
// IR-LABEL: define {{.*}}@_Z7pass_onP4Node(
// IR: load i64, ptr @checksync_rt_cards
// IR: call void @_Z4takePl(
// IR-LABEL: define {{.*}}@_Z9transientP4Node(
// IR-NOT: @checksync_rt_cards
// IR: {{^}}}
// IR-LABEL: define {{.*}}@_Z3boxP3BoxIiE(
// IR: load i64, ptr @checksync_rt_cards
// IR-LABEL: define {{.*}}@_Z5plainP5Plain(
// IR-NOT: @checksync_rt_cards
// IR: {{^}}}
// IR-NOT: define internal void @checksync.barrier
// IR-NOT: call void @checksync.barrier
