// new of an over-aligned persistent type: clang passes the alignment; the
// pass lowers the call to checksync_rt_new(desc, size) and the descriptor
// carries the alignment (64).
// RUN: %clangxx -std=c++20 -O0 -S -emit-llvm -fplugin=%plugin %s -o - | FileCheck %s
// RUN: %clangxx -std=c++20 -O2 -S -emit-llvm -fplugin=%plugin %s -o - | FileCheck %s
struct alignas(64) [[checksync::persistent]] Line {
  long words[8];
};
// CHECK: %checksync.type_desc { ptr @{{[^,]+}}, ptr @{{[^,]+}}, i64 64, i64 64, i64 1,
// CHECK-LABEL: define {{.*}}make_line
// CHECK: call {{.*}}ptr @checksync_rt_new(ptr {{.*}}, i64 64)
// CHECK-NOT: checksync.new.
Line *make_line() { return new Line{}; }
// CHECK-LABEL: define {{.*}}make_lines
// CHECK: call {{.*}}ptr @checksync_rt_new(ptr {{.*}}, i64 %
Line *make_lines(unsigned n) { return new Line[n]; }
