// Virtual inheritance is not supported.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin -Xclang -verify %s

struct [[checksync::persistent]] Base { int x; };
struct [[checksync::persistent]] Derived : virtual Base { // expected-error {{persistent type 'Derived' has a virtual base class: virtual inheritance is not supported; use non-virtual inheritance}}
  int y;
};
struct [[checksync::persistent]] Mid : Base { int z; };
struct [[checksync::persistent]] Indirect : virtual Mid { // expected-error {{persistent type 'Indirect' has a virtual base class: virtual inheritance is not supported}}
  int w;
};
