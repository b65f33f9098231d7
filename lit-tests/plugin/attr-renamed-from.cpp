// [[checksync::renamed_from("old")]] names a field's former name(s); the
// field descriptor carries them (',' separated) for a resume across builds
// (docs/evolution.md). Misuse is an error.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin %csinclude -DMISUSE -Xclang -verify %s
// RUN: %clangxx -std=c++20 -O0 -S -emit-llvm -fplugin=%plugin %csinclude %s -o - | FileCheck %s
#include <checksync/checksync.h>

#include <cstdint>

struct [[checksync::persistent]] Order {
  [[checksync::renamed_from("lots")]] std::int64_t units;
  [[checksync::renamed_from("qty")]] [[checksync::renamed_from("quantity")]] int amount;
  int price;
};
[[checksync::root]] Order *order;

// CHECK-DAG: [[LOTS:@[^ ]+]] = {{.*}} c"lots\00"
// CHECK-DAG: [[QTY:@[^ ]+]] = {{.*}} c"qty,quantity\00"
// CHECK: @checksync.fields.5Order = {{.*}} [%checksync.field_desc { ptr @{{[^,]*}}, i64 0, i32 1, i32 8, i64 1, ptr null, ptr null, ptr [[LOTS]], ptr null, i64 0, i64 0 }, %checksync.field_desc { ptr @{{[^,]*}}, i64 8, i32 1, i32 4, i64 1, ptr null, ptr null, ptr [[QTY]], ptr null, i64 0, i64 0 }, %checksync.field_desc { ptr @{{[^,]*}}, i64 12, i32 1, i32 4, i64 1, ptr null, ptr null, ptr null, ptr null, i64 0, i64 0 }]

#ifdef MISUSE
struct [[checksync::persistent]] Bad {
  [[checksync::renamed_from(qty)]] int a; // expected-error {{'checksync::renamed_from' takes the field's former name as a string literal}}
  [[checksync::renamed_from("two words")]] int b; // expected-error {{'checksync::renamed_from' takes the field's former name as a string literal, e.g. [[checksync::renamed_from("qty")]]}}
  [[checksync::renamed_from]] int c; // expected-error {{'renamed_from' attribute takes one argument}}
  [[renamed_from("c")]] int d; // expected-error {{write [[checksync::renamed_from("old")]], with the checksync:: scope}}
};
[[checksync::renamed_from("x")]] int not_a_field; // expected-error {{'checksync::renamed_from' can only be applied to a non-static data member of a [[checksync::persistent]] class or struct}}
#endif
