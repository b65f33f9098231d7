// Root variables: the root table holds each variable's address, qualified
// name and kind; roots are kept (llvm.compiler.used) even if unused, and the
// plugin's annotations do not survive.
// RUN: %clangxx -std=c++20 -O0 -S -emit-llvm -fplugin=%plugin %s -o - | FileCheck %s
// RUN: %clangxx -std=c++20 -O2 -S -emit-llvm -fplugin=%plugin %s -o - | FileCheck %s
// RUN: %clangxx -std=c++20 -O0 -S -emit-llvm -fplugin=%plugin %s -o - | FileCheck %s --check-prefix=GLOBALS
// RUN: %clangxx -std=c++20 -O2 -S -emit-llvm -fplugin=%plugin %s -o - | FileCheck %s --check-prefix=GLOBALS
#include <cstdint>

struct [[checksync::persistent]] Node {
  long key;
  Node *next;
};
[[checksync::root]] extern Node *head; // a declaration: no entry of its own
[[checksync::root]] Node *head = nullptr;
namespace app {
[[checksync::root]] std::int64_t counter;
[[checksync::root]] Node sentinel;
[[checksync::root]] static int grid[2][4];
} // namespace app
extern "C" {
[[checksync::root]] double c_root;
}

// GLOBALS-DAG: @head = {{.*}}global ptr null
// GLOBALS-DAG: @_ZN3app7counterE = {{.*}}global i64 0
// GLOBALS-DAG: @_ZN3app8sentinelE = {{.*}}global %struct.Node zeroinitializer
// GLOBALS-DAG: @_ZN3appL4gridE = internal global [2 x {{\[}}4 x i32]] zeroinitializer
// GLOBALS-DAG: @c_root = {{.*}}global double
// GLOBALS-DAG: @llvm.compiler.used = appending global [5 x ptr] [{{.*}}ptr @_ZN3appL4gridE
// CHECK: @checksync.roots = private constant [5 x %checksync.root_desc] [
// CHECK-SAME: %checksync.root_desc { ptr @head, %checksync.field_desc { ptr @checksync.str{{[.0-9]*}}, i64 0, i32 5, i32 8, i64 1, ptr @checksync.str{{[.0-9]*}}, ptr null, ptr null, ptr null, i64 0, i64 0 } },
// CHECK-SAME: %checksync.root_desc { ptr @_ZN3app7counterE, %checksync.field_desc { ptr @checksync.str{{[.0-9]*}}, i64 0, i32 1, i32 8, i64 1, ptr null, ptr null, ptr null, ptr null, i64 0, i64 0 } },
// CHECK-SAME: %checksync.root_desc { ptr @_ZN3app8sentinelE, %checksync.field_desc { ptr @checksync.str{{[.0-9]*}}, i64 0, i32 6, i32 16, i64 1, ptr @checksync.str{{[.0-9]*}}, ptr null, ptr null, ptr null, i64 0, i64 0 } },
// CHECK-SAME: %checksync.root_desc { ptr @_ZN3appL4gridE, %checksync.field_desc { ptr @checksync.str{{[.0-9]*}}, i64 0, i32 1, i32 4, i64 8, ptr null, ptr null, ptr null, ptr null, i64 0, i64 0 } },
// CHECK-SAME: %checksync.root_desc { ptr @c_root, %checksync.field_desc { ptr @checksync.str{{[.0-9]*}}, i64 0, i32 3, i32 8, i64 1, ptr null, ptr null, ptr null, ptr null, i64 0, i64 0 } }]
// CHECK: @checksync.module = private constant %checksync.module_desc { i64 5, i64 1, ptr @checksync.types, i64 5, ptr @checksync.roots }
// CHECK-NOT: llvm.global.annotations
// CHECK-NOT: checksync.root\00
// CHECK: define internal void @checksync.register()

// RUN: %clangxx -std=c++20 -O0 -S -emit-llvm -fplugin=%plugin %s -o - | FileCheck %s --check-prefix=NAMES
// NAMES-DAG: c"head\00"
// NAMES-DAG: c"app::counter\00"
// NAMES-DAG: c"app::sentinel\00"
// NAMES-DAG: c"app::grid\00"
// NAMES-DAG: c"c_root\00"
