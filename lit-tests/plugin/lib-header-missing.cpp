// A library-typed field needs the codec templates of <checksync/checksync.h>
// somewhere in the translation unit (before or after the type).
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin -Xclang -verify %s
#include <string>

struct [[checksync::persistent]] Node {
  std::string name; // expected-error {{type 'std::string' needs a codec from <checksync/checksync.h>; include <checksync/checksync.h> before this persistent type}}
};
