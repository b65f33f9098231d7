// The type descriptor records size, alignment and each field's name, offset,
// kind, element size, count and target key; transient fields are omitted.
// RUN: %clangxx -std=c++20 -O0 -S -emit-llvm -fplugin=%plugin %s -o - | FileCheck %s
// RUN: %clangxx -std=c++20 -O0 -S -emit-llvm -fplugin=%plugin %s -o - | FileCheck %s --check-prefix=STR
// RUN: %clangxx -std=c++20 -O2 -S -emit-llvm -fplugin=%plugin %s -o - | FileCheck %s --check-prefix=O2
#include <cstdint>

namespace app {
struct [[checksync::persistent]] Remote; // defined in another TU
enum class Color : std::uint8_t { Red, Green };
enum Level : short { Low = -1, High = 1 };

struct [[checksync::persistent]] Point {
  float x, y;
};

struct [[checksync::persistent]] Node {
  std::int64_t key;            // 0   int 8
  bool live;                   // 8   uint 1
  char tag;                    // 9   uint 1
  Color color;                 // 10  uint 1
  Level level;                 // 12  int 2
  unsigned grid[2][3];         // 16  uint 4 x6
  double weight;               // 40  float 8
  long double precise;         // 48  bytes 16
  Node *left;                  // 64  ref 8 -> N3app4NodeE
  Remote *remote;              // 72  ref 8 -> N3app6RemoteE
  Point where;                 // 80  record 8 -> N3app5PointE
  [[checksync::transient]] void *cache; // 88, omitted
  Point path[3];               // 96  record 8 x3
};

template <class T> struct [[checksync::persistent]] Box {
  T value;
  Box *next;
};
} // namespace app

app::Node *makeNode() { return new app::Node; }
app::Box<short> *makeBox() { return new app::Box<short>; }

// STR-DAG: @checksync.str{{[.0-9]*}} = private unnamed_addr constant [4 x i8] c"key\00"
// STR-DAG: @checksync.str{{[.0-9]*}} = private unnamed_addr constant [5 x i8] c"grid\00"
// STR-DAG: @checksync.str{{[.0-9]*}} = private unnamed_addr constant [12 x i8] c"N3app4NodeE\00"
// STR-DAG: @checksync.str{{[.0-9]*}} = private unnamed_addr constant [14 x i8] c"N3app6RemoteE\00"
// STR-DAG: @checksync.str{{[.0-9]*}} = private unnamed_addr constant [13 x i8] c"N3app5PointE\00"
// STR-DAG: @checksync.str{{[.0-9]*}} = private unnamed_addr constant [10 x i8] c"app::Node\00"
// STR-DAG: @checksync.str{{[.0-9]*}} = private unnamed_addr constant [14 x i8] c"N3app3BoxIsEE\00"
// STR-DAG: @checksync.str{{[.0-9]*}} = private unnamed_addr constant [16 x i8] c"app::Box<short>\00"
// STR-NOT: c"cache\00"

// CHECK: @checksync.fields.N3app4NodeE = private unnamed_addr constant [12 x %checksync.field_desc] [
// CHECK-SAME: %checksync.field_desc { ptr @checksync.str{{[.0-9]*}}, i64 0, i32 1, i32 8, i64 1, ptr null, ptr null, ptr null, ptr null, i64 0, i64 0 },
// CHECK-SAME: %checksync.field_desc { ptr @{{.*}}, i64 8, i32 2, i32 1, i64 1, ptr null, ptr null, ptr null, ptr null, i64 0, i64 8 },
// CHECK-SAME: %checksync.field_desc { ptr @{{.*}}, i64 9, i32 2, i32 1, i64 1, ptr null, ptr null, ptr null, ptr null, i64 0, i64 0 },
// CHECK-SAME: %checksync.field_desc { ptr @{{.*}}, i64 10, i32 2, i32 1, i64 1, ptr null, ptr null, ptr null, ptr null, i64 0, i64 0 },
// CHECK-SAME: %checksync.field_desc { ptr @{{.*}}, i64 12, i32 1, i32 2, i64 1, ptr null, ptr null, ptr null, ptr null, i64 0, i64 0 },
// CHECK-SAME: %checksync.field_desc { ptr @checksync.str{{[.0-9]*}}, i64 16, i32 2, i32 4, i64 6, ptr null, ptr null, ptr null, ptr null, i64 0, i64 0 },
// CHECK-SAME: %checksync.field_desc { ptr @{{.*}}, i64 40, i32 3, i32 8, i64 1, ptr null, ptr null, ptr null, ptr null, i64 0, i64 0 },
// CHECK-SAME: %checksync.field_desc { ptr @{{.*}}, i64 48, i32 4, i32 16, i64 1, ptr null, ptr null, ptr null, ptr null, i64 0, i64 0 },
// CHECK-SAME: %checksync.field_desc { ptr @{{.*}}, i64 64, i32 5, i32 8, i64 1, ptr @checksync.str{{[.0-9]*}}, ptr null, ptr null, ptr null, i64 0, i64 0 },
// CHECK-SAME: %checksync.field_desc { ptr @{{.*}}, i64 72, i32 5, i32 8, i64 1, ptr @checksync.str{{[.0-9]*}}, ptr null, ptr null, ptr null, i64 0, i64 0 },
// CHECK-SAME: %checksync.field_desc { ptr @{{.*}}, i64 80, i32 6, i32 8, i64 1, ptr @checksync.str{{[.0-9]*}}, ptr null, ptr null, ptr null, i64 0, i64 0 },
// CHECK-SAME: %checksync.field_desc { ptr @{{.*}}, i64 96, i32 6, i32 8, i64 3, ptr @checksync.str{{[.0-9]*}}, ptr null, ptr null, ptr null, i64 0, i64 0 }]

// CHECK: @checksync.types = private constant [3 x %checksync.type_desc] [
// CHECK-SAME: %checksync.type_desc { ptr @checksync.str{{[.0-9]*}}, ptr @{{.*}}, i64 8, i64 4, i64 2, ptr @checksync.fields.N3app5PointE, i64 0, ptr null, i64 0, ptr null, ptr null },
// CHECK-SAME: %checksync.type_desc { ptr @checksync.str{{[.0-9]*}}, ptr @checksync.str{{[.0-9]*}}, i64 128, i64 16, i64 12, ptr @checksync.fields.N3app4NodeE, i64 0, ptr null, i64 0, ptr null, ptr null },
// CHECK-SAME: %checksync.type_desc { ptr @checksync.str{{[.0-9]*}}, ptr @checksync.str{{[.0-9]*}}, i64 16, i64 8, i64 2, ptr @checksync.fields.N3app3BoxIsEE, i64 0, ptr null, i64 0, ptr null, ptr null }]

// CHECK: @checksync.module = private constant %checksync.module_desc { i64 5, i64 3, ptr @checksync.types, i64 0, ptr null }
// CHECK: @llvm.global_ctors = appending global [1 x { i32, ptr, ptr }] [{ i32, ptr, ptr } { i32 101, ptr @checksync.register, ptr null }]
// CHECK: @checksync.type.N3app4NodeE = private alias %checksync.type_desc, getelementptr inbounds ([3 x %checksync.type_desc], ptr @checksync.types, i64 0, i64 1)

// CHECK-LABEL: define {{.*}} @_Z8makeNodev(
// CHECK: call noalias nonnull ptr @checksync_rt_new(ptr @checksync.type.N3app4NodeE, i64 128)
// CHECK-LABEL: define {{.*}} @_Z7makeBoxv(
// CHECK: call noalias nonnull ptr @checksync_rt_new(ptr @checksync.type.N3app3BoxIsEE, i64 16)

// CHECK-LABEL: define internal void @checksync.register()
// CHECK-NEXT: call void @checksync_rt_register_module(ptr @checksync.module)
// CHECK-NEXT: ret void

// The schema metadata is consumed.
// CHECK-NOT: !checksync.types
// CHECK: !checksync.lowered =

// At -O2 the descriptors are the same and the registration survives.
// O2: @checksync.types = private constant [3 x %checksync.type_desc]
// O2: @llvm.global_ctors = {{.*}} { i32 101, ptr @checksync.register, ptr null }
// O2: call noalias {{.*}}ptr @checksync_rt_new(ptr nonnull @checksync.type.N3app4NodeE, i64 128)
// O2: define internal void @checksync.register()
