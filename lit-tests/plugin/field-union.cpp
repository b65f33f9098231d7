// A union is stored as opaque bytes when it holds no pointers; a union with
// pointers (or non-trivial members) is an error, named or anonymous.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin -Xclang -verify %s
#include <string>

union U { int i; float f; };
union P { int *p; long l; };
struct Inner { void *q; };
union Deep { Inner in; int x; };
union NT { std::string s; int x; NT() {} ~NT() {} };
struct [[checksync::persistent]] Node {
  U ok;      // bytes
  U ok_arr[2];
  P p; // expected-error {{field 'p' of persistent type 'Node' has type 'P': union 'P' holds pointers, which cannot be swizzled on resume because its active member is unknown; store the pointers outside the union; or, if the field only caches what the program can rebuild, mark it [[checksync::transient]]: its contents will not survive a resume}}
  Deep d; // expected-error {{field 'd' of persistent type 'Node' has type 'Deep': union 'Deep' holds pointers}}
  union { int a; char *b; }; // expected-error {{field '(anonymous union)' of persistent type 'Node' has type 'Node::(anonymous)': union 'Node::(anonymous)' holds pointers}}
  NT nt; // expected-error {{field 'nt' of persistent type 'Node' has type 'NT': unions with non-trivial members are not supported (the active member is unknown); if the field only caches what the program can rebuild, mark it [[checksync::transient]]: its contents will not survive a resume}}
};
