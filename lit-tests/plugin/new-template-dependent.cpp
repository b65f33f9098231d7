// Errors inside templates are reported for the instantiation, once.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin -Xclang -verify %s
#include <new>

struct [[checksync::persistent]] Node { int x; };
template <class T> T *place(void *p) { return new (p) T; } // expected-error {{placement new of persistent type 'Node' is not tracked}}
template <class T> T *ok() { return new T; }
void use(void *p) {
  place<Node>(p);
  place<int>(p);
  ok<Node>();
}
