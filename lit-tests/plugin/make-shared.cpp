// std::make_shared / std::allocate_shared (and their _for_overwrite forms) of
// a persistent type are redirected to checksync/shared.h, which makes the
// object with new (tracked) instead of inside the control block; also when
// called from a template. Arrays of persistent objects stay an error, and so
// does a call in a file that does not include <checksync/checksync.h> (the
// second RUN line).
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin %csinclude -DWITH_HEADER -Xclang -verify=with %s
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin -Xclang -verify=without %s
// RUN: %clangxx -std=c++20 -O0 -S -emit-llvm -fplugin=%plugin %csinclude -DWITH_HEADER -DNO_ARRAYS %s -o - | FileCheck %s
#ifdef WITH_HEADER
#include <checksync/checksync.h>
#endif
#include <memory>

namespace app {
struct [[checksync::persistent]] Node {
  int x;
  Node() = default;
  Node(int x) : x(x) {}
};
} // namespace app
template <class T> std::shared_ptr<T> viaTemplate() {
  return std::make_shared<T>(); // without-error {{std::make_shared<app::Node> places 'app::Node' inside the shared_ptr control block, where CheckSync cannot track it; include <checksync/checksync.h> first, or use std::shared_ptr<app::Node>(new app::Node(...))}}
}
// CHECK-LABEL: define {{.*}} @_Z1fv(
void f() {
  // CHECK: call {{.*}} @_ZN9checksync6detail11make_sharedIN3app4NodeEJiEEESt10shared_ptrIT_EDpOT0_(
  auto a = std::make_shared<app::Node>(1); // without-error {{std::make_shared<app::Node> places}}
  // CHECK: {{call|invoke}} {{.*}} @_ZN9checksync6detail15allocate_sharedIN3app4NodeESaIS3_EJEEESt10shared_ptrIT_ERKT0_DpOT1_(
  auto b = std::allocate_shared<app::Node>(std::allocator<app::Node>()); // without-error {{std::allocate_shared<app::Node> places}}
  // CHECK: {{call|invoke}} {{.*}} @_ZN9checksync6detail25make_shared_for_overwriteIN3app4NodeEEESt10shared_ptrIT_Ev(
  auto c = std::make_shared_for_overwrite<app::Node>(); // without-error {{std::make_shared_for_overwrite<app::Node> places}}
  auto d = viaTemplate<app::Node>();
  auto ok1 = std::make_shared<int>(1);
  auto ok2 = std::shared_ptr<app::Node>(new app::Node());
#ifndef NO_ARRAYS
  auto e = std::make_shared<app::Node[]>(3); // with-error {{std::make_shared<app::Node[]> places 'app::Node' inside the shared_ptr control block, where CheckSync cannot track it; arrays of persistent objects cannot be shared: hold a std::vector of std::shared_ptr<app::Node>}} without-error {{std::make_shared<app::Node[]> places}}
#endif
}
// The object is made by the tracked allocator, not inside a control block.
// CHECK-LABEL: define {{.*}} @_ZN9checksync6detail11make_sharedIN3app4NodeEJiEEESt10shared_ptrIT_EDpOT0_(
// CHECK: call {{.*}} @checksync_rt_new(
// In a template's instantiation too.
// CHECK-LABEL: define {{.*}} @_Z11viaTemplateIN3app4NodeEESt10shared_ptrIT_Ev(
// CHECK: @_ZN9checksync6detail11make_sharedIN3app4NodeEJEEESt10shared_ptrIT_EDpOT0_(
