// <checksync/checksync.h> included after the persistent type: the entry is
// instantiated at the end of the translation unit.
// RUN: %clangxx -std=c++20 -O0 -S -emit-llvm -fplugin=%plugin %csinclude %s -o - | FileCheck %s
// RUN: %clangxx -std=c++20 -O2 -S -emit-llvm -fplugin=%plugin %csinclude %s -o - | FileCheck %s
#include <string>

struct [[checksync::persistent]] Node {
  std::string name;
};
Node *make() { return new Node; }

#include <checksync/checksync.h>

// CHECK: @[[STR:_ZN9checksync5codec5entryINSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEEEE]] = linkonce_odr {{.*}}constant
// CHECK: @checksync.fields.4Node = private unnamed_addr constant [1 x %checksync.field_desc] [%checksync.field_desc { ptr @{{[^,]*}}, i64 0, i32 7, i32 32, i64 1, ptr @{{[^,]*}}, ptr @[[STR]], ptr null, ptr null, i64 0, i64 0 }]
// CHECK: define linkonce_odr {{.*}}@_ZN9checksync5codec5codecINSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEEE6decodeERKNS0_5ValueEPv(
