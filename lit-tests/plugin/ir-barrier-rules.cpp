// Write barrier rules on C++ code, at -O0 and -O2 (the barrier is inlined:
// `load i64, ptr @checksync_rt_cards` ... `store atomic i8 1`).
// RUN: %clangxx -std=c++20 -O0 -S -emit-llvm -fplugin=%plugin %csinclude %s -o - | FileCheck %s
// RUN: %clangxx -std=c++20 -O2 -S -emit-llvm -fplugin=%plugin %csinclude %s -o - | FileCheck %s --check-prefixes=CHECK,O2
#include <checksync/checksync.h>
#include <string>

struct [[checksync::persistent]] Node {
  long key;
  std::string name;
  Node *next;
};
struct [[checksync::persistent]] Pod { long a, b, c, d, e, f; };
void read_ref(const long &);
void read_ptr(const long *);
void write_ref(long &);

// (a) a store.
// CHECK-LABEL: define {{.*}}@_Z7set_keyP4Nodel(
// CHECK: [[LO:%.*]] = load i64, ptr @checksync_rt_cards
// CHECK: icmp ult i64
// CHECK: store atomic i8 1
// CHECK: store atomic i8 1
// CHECK: store i64 %{{.*}}, ptr
// CHECK: {{^}}}
void set_key(Node *n, long v) { n->key = v; }

// (d) a const member function of a library field: no barrier.
// CHECK-LABEL: define {{.*}}@_Z8name_lenP4Node(
// CHECK-NOT: @checksync_rt_cards
// CHECK: {{^}}}
size_t name_len(Node *n) { return n->name.size(); }

// (d) a non-const member function: barrier.
// CHECK-LABEL: define {{.*}}@_Z11name_appendP4Node(
// CHECK: load i64, ptr @checksync_rt_cards
// CHECK: store atomic i8 1
// CHECK: call {{.*}}@_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE6appendEPKc(
// CHECK: {{^}}}
void name_append(Node *n) { n->name.append("x"); }

// (d) const& / const* parameters: none; non-const reference: barrier.
// CHECK-LABEL: define {{.*}}@_Z5readsP4Node(
// CHECK-NOT: @checksync_rt_cards
// CHECK: {{^}}}
void reads(Node *n) { read_ref(n->key); read_ptr(&n->key); }
// CHECK-LABEL: define {{.*}}@_Z6writesP4Node(
// CHECK: load i64, ptr @checksync_rt_cards
// CHECK: call void @_Z9write_refRl(
// CHECK: {{^}}}
void writes(Node *n) { write_ref(n->key); }

// (d) const member function returning through sret: none.
// CHECK-LABEL: define {{.*}}@_Z6substrB5cxx11P4Node(
// CHECK-NOT: @checksync_rt_cards
// CHECK: {{^}}}
std::string substr(Node *n) { return n->name.substr(1); }

// (b) the address escapes by return.
// CHECK-LABEL: define {{.*}}@_Z6escapeP4Node(
// CHECK: load i64, ptr @checksync_rt_cards
// CHECK: {{^}}}
long *escape(Node *n) { return &n->key; }

// (e) whole-object copy of a persistent struct.
// CHECK-LABEL: define {{.*}}@_Z4copyP3PodPKS_(
// CHECK: call void @checksync_rt_mark_range(ptr {{.*}}, i64 48)
// CHECK-NEXT: call void @llvm.memcpy
// CHECK: {{^}}}
void copy(Pod *d, const Pod *s) { *d = *s; }

// (e) copies into the stack: no mark.
// CHECK-LABEL: define {{.*}}@_Z10copy_localPK3Pod(
// CHECK-NOT: checksync_rt_mark_range
// CHECK: {{^}}}
long copy_local(const Pod *s) { Pod t = *s; return t.a + t.f; }

// (i) two writes to one object in a block: one barrier.
// CHECK-LABEL: define {{.*}}@_Z3twoP4Node(
// CHECK-COUNT-1: ptrtoint ptr
// CHECK-NOT: ptrtoint ptr
// CHECK: {{^}}}
void two(Node *n) { n->key = 1; n->next = nullptr; }

// (ii) stores into a fresh object before any call: no barrier.
// CHECK-LABEL: define {{.*}}@_Z8make_podv(
// CHECK: call {{.*}}@checksync_rt_new(
// CHECK-NOT: @checksync_rt_cards
// CHECK: {{^}}}
Pod *make_pod() { Pod *p = new Pod; p->a = 1; p->b = 2; return p; }

// Non-persistent memory: not instrumented, and -O2 still vectorises.
// CHECK-LABEL: define {{.*}}@_Z5saxpyPfPKfi(
// CHECK-NOT: @checksync_rt_cards
// O2: <{{[0-9]+}} x float>
// CHECK: {{^}}}
void saxpy(float *a, const float *b, int n) {
  for (int i = 0; i < n; ++i) a[i] += b[i] * 2.0f;
}
