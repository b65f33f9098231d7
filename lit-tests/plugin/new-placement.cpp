// Placement new of a persistent type is not tracked.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin -Xclang -verify %s
#include <new>

struct [[checksync::persistent]] Node { int x; };
alignas(Node) char buf[sizeof(Node)];
Node *f() { return new (buf) Node; } // expected-error {{placement new of persistent type 'Node' is not tracked; allocate with plain new}}
Node *g() { return new (std::nothrow) Node; } // expected-error {{placement new of persistent type 'Node' is not tracked}}
int *ok() { return new (buf) int; }
