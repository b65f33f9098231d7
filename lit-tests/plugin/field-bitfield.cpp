// Bit-fields are not supported yet.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin -Xclang -verify %s

struct [[checksync::persistent]] Node {
  unsigned flags : 3; // expected-error {{field 'flags' of persistent type 'Node' is a bit-field: bit-fields are not supported yet; use a plain integer field; or, if the field only caches what the program can rebuild, mark it [[checksync::transient]]: its contents will not survive a resume}}
  [[checksync::transient]] unsigned scratch : 5;
};
