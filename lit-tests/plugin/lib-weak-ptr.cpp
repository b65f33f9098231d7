// std::weak_ptr has no codec.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin %csinclude -Xclang -verify %s
#include <checksync/checksync.h>

struct [[checksync::persistent]] Item { int x; };
struct [[checksync::persistent]] Node {
  std::weak_ptr<Item> w; // expected-error {{field 'w' of persistent type 'Node' has type 'std::weak_ptr<Item>': std::weak_ptr is not supported: the codec keeps only owning references; hold a std::shared_ptr or a raw pointer to the persistent type; or, if the field only caches what the program can rebuild, mark it [[checksync::transient]]: its contents will not survive a resume}}
  std::shared_ptr<Item> ok;
};
