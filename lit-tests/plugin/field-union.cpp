// Unions, named or anonymous, are not supported.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin -Xclang -verify %s

union U { int i; float f; };
struct [[checksync::persistent]] Node {
  U u; // expected-error {{field 'u' of persistent type 'Node' has type 'U': unions are not supported (the active member is unknown); mark the field [[checksync::transient]]}}
  union { int a; float b; }; // expected-error {{field '(anonymous union)' of persistent type 'Node' has type 'Node::(anonymous)': unions are not supported}}
};
