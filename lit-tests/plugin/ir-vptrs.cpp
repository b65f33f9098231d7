// A polymorphic persistent type lists every vtable pointer of a complete
// object: {offset, address point in its vtable group}. A secondary base has
// its own vptr; the primary base shares the derived class's. Vptrs are not
// fields. new and make_unique of a polymorphic type are still rewritten.
// RUN: %clangxx -std=c++20 -O0 -S -emit-llvm -fplugin=%plugin %s -o - | FileCheck %s --check-prefixes=CHECK,O0
// RUN: %clangxx -std=c++20 -O2 -S -emit-llvm -fplugin=%plugin %s -o - | FileCheck %s --check-prefixes=CHECK,O2
#include <memory>

struct [[checksync::persistent]] Shape {
  virtual ~Shape() = default;
  virtual double area() const { return 0; }
  long id;                                      // 8
};
struct [[checksync::persistent]] Named {
  virtual const char *name() const { return "named"; }
  int len;                                      // 8
};
struct [[checksync::persistent]] Circle : Shape, Named { // Shape at 0, Named at 16
  double area() const override { return r * r * 3; }
  double r;                                     // 32
};
// Key function defined in another TU: the vtable is only declared here.
struct [[checksync::persistent]] Keyed {
  virtual void key();
  int k;
};
struct [[checksync::persistent]] Abstract { virtual void f() = 0; int a; };

// CHECK: @_ZTV5Keyed = external {{.*}}constant
// _ZTV6Circle = { [5 x ptr], [3 x ptr] }: address points 2 and 5 + 2.
// CHECK: @checksync.fields.6Circle = private unnamed_addr constant [3 x %checksync.field_desc] [
// CHECK-SAME: { ptr @{{[^,]*}}, i64 0, i32 6, i32 16, i64 1,
// CHECK-SAME: { ptr @{{[^,]*}}, i64 16, i32 6, i32 16, i64 1,
// CHECK-SAME: { ptr @{{[^,]*}}, i64 32, i32 3, i32 8, i64 1,
// CHECK: @checksync.vptrs.6Circle = private unnamed_addr constant [2 x %checksync.vptr_desc] [%checksync.vptr_desc { i64 0, ptr getelementptr (i8, ptr @_ZTV6Circle, i64 16) }, %checksync.vptr_desc { i64 16, ptr getelementptr (i8, ptr @_ZTV6Circle, i64 56) }]
// CHECK: @checksync.vptrs.5Keyed = private unnamed_addr constant [1 x %checksync.vptr_desc] [%checksync.vptr_desc { i64 0, ptr getelementptr (i8, ptr @_ZTV5Keyed, i64 16) }]
// CHECK: @checksync.types = private constant [5 x %checksync.type_desc] [
// CHECK-SAME: i64 1, ptr @checksync.fields.5Shape, i64 0, ptr null, i64 1, ptr @checksync.vptrs.5Shape, ptr null }
// CHECK-SAME: i64 3, ptr @checksync.fields.6Circle, i64 0, ptr null, i64 2, ptr @checksync.vptrs.6Circle, ptr null }
// An abstract class is never a complete object: no vptrs.
// CHECK-SAME: i64 1, ptr @checksync.fields.8Abstract, i64 0, ptr null, i64 0, ptr null, ptr null }]

// CHECK-LABEL: define {{.*}} @_Z9makePlainv(
// CHECK: call noalias {{.*}}nonnull {{.*}}ptr @checksync_rt_new(ptr {{.*}}@checksync.type.6Circle, i64 40)
// CHECK-NOT: _Znwm
Shape *makePlain() { return new Circle; }

// CHECK-LABEL: define {{.*}} @_Z10makeUniquev(
// O2: call noalias {{.*}}nonnull {{.*}}ptr @checksync_rt_new(ptr {{.*}}@checksync.type.6Circle, i64 40)
// O0: call void @_ZSt11make_uniqueI6CircleJEENSt8__detail9_MakeUniqIT_E15__single_objectEDpOT0_(
std::unique_ptr<Shape> makeUnique() { return std::make_unique<Circle>(); }

Keyed *makeKeyed() { return new Keyed; }

// O0: define linkonce_odr {{.*}} @_ZSt11make_uniqueI6CircleJEENSt8__detail9_MakeUniqIT_E15__single_objectEDpOT0_(
// O0: call noalias nonnull ptr @checksync_rt_new(ptr @checksync.type.6Circle, i64 40)
// CHECK-NOT: _Znwm
