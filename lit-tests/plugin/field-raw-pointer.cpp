// A raw pointer to a non-persistent type cannot be checkpointed.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin -Xclang -verify %s

struct Plain { int x; };
struct [[checksync::persistent]] Node {
  int *p; // expected-error {{field 'p' of persistent type 'Node' has type 'int *': raw pointers to non-persistent types cannot be checkpointed; if the field only caches what the program can rebuild, mark it [[checksync::transient]]: its contents will not survive a resume}}
  Plain *q; // expected-error {{field 'q' of persistent type 'Node' has type 'Plain *': raw pointers to non-persistent types cannot be checkpointed: 'Plain' is not [[checksync::persistent]]; mark 'Plain' [[checksync::persistent]]; or, if the field only caches what the program can rebuild, mark it [[checksync::transient]]: its contents will not survive a resume}}
  void *v; // expected-error {{field 'v' of persistent type 'Node' has type 'void *': raw pointers}}
  // The classic skip list's `Node **forward = new Node*[level]`: the hint
  // names what works.
  Node **pp; // expected-error {{field 'pp' of persistent type 'Node' has type 'Node **': a pointer to pointers ('Node **') cannot be checkpointed: if it owns an array (new Node*[n]), its length is unknown; hold the refs in a std::vector<Node *> (or a fixed-size array member Node *[N])}}
  Node *ok;
  const Node *ok_const;
};
