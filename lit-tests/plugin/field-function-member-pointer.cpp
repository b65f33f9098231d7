// Function pointers and member pointers cannot be checkpointed.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin -Xclang -verify %s

struct S { int a; void f(); };
struct [[checksync::persistent]] Node {
  void (*callback)(int); // expected-error {{field 'callback' of persistent type 'Node' has type 'void (*)(int)': function pointers cannot be checkpointed (code addresses differ between runs); if the field only caches what the program can rebuild, mark it [[checksync::transient]]: its contents will not survive a resume}}
  int S::*mp; // expected-error {{field 'mp' of persistent type 'Node' has type 'int S::*': member pointers cannot be checkpointed}}
  void (S::*mfp)(); // expected-error {{field 'mfp' of persistent type 'Node' has type 'void (S::*)()': member pointers cannot be checkpointed}}
};
