// What a resume across builds needs from the plugin besides field renames
// (docs/evolution.md): the value of each default member initialiser that is
// a constant (bytes of the field; the characters of a std::string), a flag
// for one that is not, [[checksync::allow_lossy]] on a field, and
// [[checksync::renamed_from("old::Name")]] on a class. Misuse is an error.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin %csinclude -DMISUSE -Xclang -verify %s
// RUN: %clangxx -std=c++20 -O0 -S -emit-llvm -fplugin=%plugin %csinclude %s -o - | FileCheck %s
#include <checksync/checksync.h>

#include <cstdint>
#include <cstdlib>
#include <string>

enum class Color : std::uint8_t { Red = 1, Green = 2 };

namespace shop {
struct [[checksync::persistent, checksync::renamed_from("shop::Item"),
         checksync::renamed_from("::Thing")]] Article {
  std::int32_t priority = 7;
  char code[4] = "ab";
  Color color = Color::Green;
  std::string label = "new";
  int seeded = std::rand();
  [[checksync::allow_lossy]] std::int16_t small;
  Article *next = nullptr;
};
} // namespace shop
[[checksync::root]] shop::Article *article;

// A forward declaration carrying the attribute: the definition inherits it,
// the former name is listed once.
struct [[checksync::renamed_from("OldFwd")]] Fwd;
struct [[checksync::persistent]] Fwd {
  bool on = true;
  std::string names[2] = {"x"}; // an array of strings: not used (flag 2 only)
};
[[checksync::root]] Fwd *fwd;

// A class template's initialiser is instantiated for the schema even where
// no constructor uses it.
template <class T> struct [[checksync::persistent]] Box {
  T v = 3;
};
[[checksync::root]] Box<int> *box;
static_assert(sizeof(Box<int>) == sizeof(int)); // completes the class, not the initialiser

// Flags: 1 allow_lossy, 2 has an initialiser, 4 its value is in the descriptor, 8 bool.
// CHECK-DAG: [[SEVEN:@[^ ]+]] = {{.*}} c"\07\00\00\00\00"
// CHECK-DAG: [[AB:@[^ ]+]] = {{.*}} c"ab\00\00\00"
// CHECK-DAG: [[GREEN:@[^ ]+]] = {{.*}} c"\02\00"
// CHECK-DAG: [[NEW:@[^ ]+]] = {{.*}} c"new\00"
// CHECK: @checksync.fields.N4shop7ArticleE = {{.*}} [
// CHECK-SAME: { ptr @{{[^,]*}}, i64 0, i32 1, i32 4, i64 1, ptr null, ptr null, ptr null, ptr [[SEVEN]], i64 4, i64 6 },
// CHECK-SAME: { ptr @{{[^,]*}}, i64 4, i32 2, i32 1, i64 4, ptr null, ptr null, ptr null, ptr [[AB]], i64 4, i64 6 },
// CHECK-SAME: { ptr @{{[^,]*}}, i64 8, i32 2, i32 1, i64 1, ptr null, ptr null, ptr null, ptr [[GREEN]], i64 1, i64 6 },
// CHECK-SAME: { ptr @{{[^,]*}}, i64 16, i32 7, i32 32, i64 1, ptr @{{[^,]*}}, ptr @{{[^,]*}}, ptr null, ptr [[NEW]], i64 3, i64 6 },
// CHECK-SAME: { ptr @{{[^,]*}}, i64 48, i32 1, i32 4, i64 1, ptr null, ptr null, ptr null, ptr null, i64 0, i64 2 },
// CHECK-SAME: { ptr @{{[^,]*}}, i64 52, i32 1, i32 2, i64 1, ptr null, ptr null, ptr null, ptr null, i64 0, i64 1 },
// CHECK-SAME: { ptr @{{[^,]*}}, i64 56, i32 5, i32 8, i64 1, ptr @{{[^,]*}}, ptr null, ptr null, ptr @{{[^,]*}}, i64 8, i64 6 }]
// CHECK: [[FORMER:@[^ ]+]] = {{.*}} c"shop::Item,Thing\00"
// CHECK: @checksync.fields.3Fwd = {{.*}} [
// CHECK-SAME: { ptr @{{[^,]*}}, i64 0, i32 2, i32 1, i64 1, ptr null, ptr null, ptr null, ptr @{{[^,]*}}, i64 1, i64 14 },
// CHECK-SAME: { ptr @{{[^,]*}}, i64 8, i32 7, i32 32, i64 2, ptr @{{[^,]*}}, ptr @{{[^,]*}}, ptr null, ptr null, i64 0, i64 2 }]
// CHECK: [[OLDFWD:@[^ ]+]] = {{.*}} c"OldFwd\00"
// CHECK: @checksync.fields.3BoxIiE = {{.*}} [%checksync.field_desc { ptr @{{[^,]*}}, i64 0, i32 1, i32 4, i64 1, ptr null, ptr null, ptr null, ptr [[THREE:@[^,]*]], i64 4, i64 6 }]
// CHECK: @checksync.types = {{.*}} ptr @checksync.fields.N4shop7ArticleE, i64 0, ptr null, i64 0, ptr null, ptr [[FORMER]] }
// CHECK-SAME: ptr @checksync.fields.3Fwd, i64 0, ptr null, i64 0, ptr null, ptr [[OLDFWD]] }
// CHECK-SAME: ptr @checksync.fields.3BoxIiE, i64 0, ptr null, i64 0, ptr null, ptr null }]

#ifdef MISUSE
struct [[checksync::persistent, checksync::renamed_from("a::")]] Bad1 { int x; }; // expected-error {{'checksync::renamed_from' on a class takes its former qualified name as a string literal, e.g. [[checksync::renamed_from("shop::Order")]] (templates are not supported)}}
struct [[checksync::persistent, checksync::renamed_from("Box<int>")]] Bad2 { int x; }; // expected-error {{'checksync::renamed_from' on a class takes its former qualified name}}
template <class T> struct [[checksync::persistent, checksync::renamed_from("OldBox")]] Bad4 { T x; }; // expected-error {{'checksync::renamed_from' cannot be applied to a class template: each of its specialisations is a type of its own}}
struct [[checksync::persistent]] Bad3 {
  [[checksync::renamed_from("a::b")]] int x; // expected-error {{'checksync::renamed_from' takes the field's former name as a string literal}}
};
[[checksync::allow_lossy]] int not_a_field; // expected-error {{'checksync::allow_lossy' can only be applied to a non-static data member of a [[checksync::persistent]] class or struct}}
#endif
