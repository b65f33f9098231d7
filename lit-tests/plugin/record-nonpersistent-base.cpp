// A base class holding data must be persistent; empty bases and interfaces
// (no data members) are fine.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin -Xclang -verify %s

namespace ns {
struct Plain { int x; };
}
struct Empty {};
struct Iface { virtual void f() = 0; virtual ~Iface() = default; };
struct [[checksync::persistent]] Derived : ns::Plain, Empty, Iface { // expected-error {{persistent type 'Derived' has base class 'ns::Plain', which is not [[checksync::persistent]], so its fields cannot be checkpointed; mark 'ns::Plain' [[checksync::persistent]]}}
  int y;
  void f() override {}
};
