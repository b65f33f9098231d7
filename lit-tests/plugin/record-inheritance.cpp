// Persistent types with base classes are not supported yet.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin -Xclang -verify %s

struct [[checksync::persistent]] Base { int x; };
struct [[checksync::persistent]] Derived : Base { // expected-error {{persistent type 'Derived' has a base class: inheritance is not supported yet; make the base a member instead}}
  int y;
};
