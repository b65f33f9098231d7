// Polymorphic persistent types are not supported yet.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin -Xclang -verify %s

struct [[checksync::persistent]] Shape { // expected-error {{persistent type 'Shape' is polymorphic: polymorphic persistent types are not supported yet; remove the virtual functions}}
  virtual ~Shape();
  int x;
};
