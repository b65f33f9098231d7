// std::make_shared / std::allocate_shared of a persistent type would put the
// object in the control block, out of CheckSync's sight.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin -Xclang -verify %s
#include <memory>

namespace app {
struct [[checksync::persistent]] Node { int x; };
}
template <class T> std::shared_ptr<T> viaTemplate() {
  return std::make_shared<T>(); // expected-error {{std::make_shared<app::Node> places 'app::Node' inside the shared_ptr control block, where CheckSync cannot track it; use std::shared_ptr<app::Node>(new app::Node(...))}}
}
void f() {
  auto a = std::make_shared<app::Node>(); // expected-error {{std::make_shared<app::Node> places 'app::Node' inside the shared_ptr control block, where CheckSync cannot track it; use std::shared_ptr<app::Node>(new app::Node(...))}}
  auto b = std::allocate_shared<app::Node>(std::allocator<app::Node>()); // expected-error {{std::allocate_shared<app::Node> places 'app::Node' inside the shared_ptr control block}}
  auto c = std::make_shared<app::Node[]>(3); // expected-error {{std::make_shared<app::Node> places}}
  auto d = viaTemplate<app::Node>();
  auto ok1 = std::make_shared<int>(1);
  auto ok2 = std::shared_ptr<app::Node>(new app::Node());
}
