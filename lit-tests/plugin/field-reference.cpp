// References cannot be checkpointed.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin -Xclang -verify %s

struct [[checksync::persistent]] Node {
  int &r; // expected-error {{field 'r' of persistent type 'Node' has type 'int &': references cannot be checkpointed (they cannot be re-bound on resume); if the field only caches what the program can rebuild, mark it [[checksync::transient]]: its contents will not survive a resume}}
};
