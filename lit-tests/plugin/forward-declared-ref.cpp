// A pointer to a type that is only forward-declared when the persistent
// record is defined is checked at the end of the translation unit: fine when
// the definition carries the attribute (mutual recursion), an error otherwise.
// RUN: split-file %s %t
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin -Xclang -verify %t/ok.cpp
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin -Xclang -verify %t/bad.cpp
// RUN: %clangxx -std=c++20 -O1 -S -emit-llvm -fplugin=%plugin %t/ok.cpp -o - | FileCheck %t/ok.cpp

//--- ok.cpp
// expected-no-diagnostics
struct Leaf;
struct [[checksync::persistent]] Vertex {
  Leaf *leaf;
  Vertex *next;
};
struct [[checksync::persistent]] Leaf {
  Vertex *back;
};
[[checksync::root]] Vertex *v = nullptr;
// CHECK-DAG: c"leaf\00"
// CHECK-DAG: c"4Leaf\00"

//--- bad.cpp
struct Opaque;
struct [[checksync::persistent]] Holder {
  Opaque *p; // expected-error {{field 'p' of persistent type 'Holder' has type 'Opaque *': raw pointers to non-persistent types cannot be checkpointed: 'Opaque' is not [[checksync::persistent]] (it is never defined with the attribute in this translation unit); mark 'Opaque' [[checksync::persistent]]; or, if the field only caches what the program can rebuild, mark it [[checksync::transient]]: its contents will not survive a resume}}
};
struct Opaque {
  int x;
};
