// A non-persistent record by value has no known layout.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin -Xclang -verify %s

struct Plain { int x; };
struct [[checksync::persistent]] Node {
  Plain p; // expected-error {{field 'p' of persistent type 'Node' has type 'Plain': 'Plain' is not [[checksync::persistent]], so its layout is unknown; mark 'Plain' [[checksync::persistent]]; or, if the field only caches what the program can rebuild, mark it [[checksync::transient]]: its contents will not survive a resume}}
  Plain arr[2]; // expected-error {{field 'arr' of persistent type 'Node' has type 'Plain[2]': 'Plain' is not [[checksync::persistent]]}}
  struct { int a; } anon; // expected-error {{field 'anon' of persistent type 'Node' has type 'struct (unnamed)': unnamed non-persistent structs cannot be checkpointed}}
};
