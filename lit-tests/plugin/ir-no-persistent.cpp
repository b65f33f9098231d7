// A translation unit without persistent types or roots is left alone.
// RUN: %clangxx -std=c++20 -O2 -S -emit-llvm -fplugin=%plugin %s -o - | FileCheck %s
// CHECK-NOT: checksync
// CHECK: call {{.*}}@_Znwm(
// CHECK-NOT: checksync
struct Plain { long x; };
Plain *make() { return new Plain; }
