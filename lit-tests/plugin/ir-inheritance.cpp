// Persistent bases (single and multiple) become "record" fields named after
// the base, at the base's offset, sorted with the fields; empty bases are
// left out.
// RUN: %clangxx -std=c++20 -O0 -S -emit-llvm -fplugin=%plugin %s -o - | FileCheck %s
// RUN: %clangxx -std=c++20 -O2 -S -emit-llvm -fplugin=%plugin %s -o - | FileCheck %s
// RUN: %clangxx -std=c++20 -O0 -S -emit-llvm -fplugin=%plugin %s -o - | FileCheck %s --check-prefix=NAMES

namespace ns {
struct [[checksync::persistent]] A { long a; };        // size 8
struct [[checksync::persistent]] B { int b; char c; }; // size 8
struct Tag {};
struct [[checksync::persistent]] D : A, Tag, B {       // A at 0, B at 8
  short d;                                             // 16 (sizeof 24)
};
struct [[checksync::persistent]] E : D { int e; };     // D at 0, e at 20:
                                                       // in D's tail padding
} // namespace ns

ns::E *make() { return new ns::E; }

// NAMES-DAG: c"ns::A\00"
// NAMES-DAG: c"ns::B\00"
// NAMES-DAG: c"ns::D\00"

// CHECK: @checksync.fields.N2ns1DE = private unnamed_addr constant [3 x %checksync.field_desc] [
// CHECK-SAME: %checksync.field_desc { ptr @[[A:checksync.str[.0-9]*]], i64 0, i32 6, i32 8, i64 1, ptr @[[AKEY:checksync.str[.0-9]*]], ptr null, ptr null, ptr null, i64 0, i64 0 },
// CHECK-SAME: %checksync.field_desc { ptr @{{[^,]*}}, i64 8, i32 6, i32 8, i64 1, ptr @{{[^,]*}}, ptr null, ptr null, ptr null, i64 0, i64 0 },
// CHECK-SAME: %checksync.field_desc { ptr @{{[^,]*}}, i64 16, i32 1, i32 2, i64 1, ptr null, ptr null, ptr null, ptr null, i64 0, i64 0 }]
// CHECK: @checksync.fields.N2ns1EE = private unnamed_addr constant [2 x %checksync.field_desc] [
// CHECK-SAME: %checksync.field_desc { ptr @{{[^,]*}}, i64 0, i32 6, i32 24, i64 1, ptr @{{[^,]*}}, ptr null, ptr null, ptr null, i64 0, i64 0 },
// CHECK-SAME: %checksync.field_desc { ptr @{{[^,]*}}, i64 20, i32 1, i32 4, i64 1, ptr null, ptr null, ptr null, ptr null, i64 0, i64 0 }]
// CHECK: @checksync.types = private constant [4 x %checksync.type_desc]
// CHECK: call {{.*}}ptr @checksync_rt_new(ptr {{.*}}@checksync.type.N2ns1EE, i64 24)
