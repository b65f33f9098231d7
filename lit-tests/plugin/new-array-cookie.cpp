// new[] of a type needing an array cookie is not supported yet.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin -Xclang -verify %s

struct [[checksync::persistent]] WithDtor {
  int x;
  ~WithDtor();
};
struct [[checksync::persistent]] Trivial { int x; };
WithDtor *f(int n) { return new WithDtor[n]; } // expected-error {{not supported yet: new[] of persistent type 'WithDtor' needs an array cookie}}
Trivial *g(int n) { return new Trivial[n]; }
WithDtor *h() { return new WithDtor; }
