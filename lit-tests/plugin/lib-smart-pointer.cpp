// unique_ptr/shared_ptr must own a persistent type; unique_ptr must use
// std::default_delete.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin %csinclude -Xclang -verify %s
#include <checksync/checksync.h>

struct Plain { int x; };
struct [[checksync::persistent]] Item { int x; };
struct Deleter { void operator()(Item *p) const { delete p; } };
struct [[checksync::persistent]] Node {
  std::unique_ptr<Item, Deleter> custom; // expected-error {{field 'custom' of persistent type 'Node' has type 'std::unique_ptr<Item, Deleter>': std::unique_ptr with the custom deleter 'Deleter' cannot be rebuilt on resume; use std::default_delete; or, if the field only caches what the program can rebuild, mark it [[checksync::transient]]: its contents will not survive a resume}}
  std::unique_ptr<Plain> plain; // expected-error {{field 'plain' of persistent type 'Node' has type 'std::unique_ptr<Plain>': 'std::unique_ptr<Plain>' owns a non-persistent object: 'Plain' is not [[checksync::persistent]]; mark 'Plain' [[checksync::persistent]]; or, if the field only caches what the program can rebuild, mark it [[checksync::transient]]: its contents will not survive a resume}}
  std::shared_ptr<int> num; // expected-error {{field 'num' of persistent type 'Node' has type 'std::shared_ptr<int>': 'std::shared_ptr<int>' does not own a [[checksync::persistent]] object; if the field only caches what the program can rebuild, mark it [[checksync::transient]]: its contents will not survive a resume}}
  std::unique_ptr<Item> ok1;
  std::unique_ptr<Item[]> ok2;
  std::shared_ptr<Item> ok3;
};
