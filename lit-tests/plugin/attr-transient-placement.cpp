// [[checksync::transient]] applies to non-static data members of persistent
// records only.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin -Xclang -verify %s

struct Stats { int hits; };
struct [[checksync::persistent]] Node {
  int x;
  [[checksync::transient]] Stats *stats;
  [[checksync::transient]] static int counter; // expected-error {{'checksync::transient' can only be applied to a non-static data member of a [[checksync::persistent]] class or struct}}
};
struct Plain {
  [[checksync::transient]] int cache; // expected-error {{'checksync::transient' on field 'cache' of 'Plain': it can only be applied to fields of a [[checksync::persistent]] class or struct; mark 'Plain' [[checksync::persistent]] or remove the attribute}}
};
[[checksync::transient]] int global; // expected-error {{'checksync::transient' can only be applied to a non-static data member}}
struct [[checksync::transient]] T { int x; }; // expected-error {{'checksync::transient' can only be applied to a non-static data member}}
