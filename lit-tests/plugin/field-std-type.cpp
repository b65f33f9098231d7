// Standard library types are not supported yet.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin -Xclang -verify %s
#include <string>
#include <vector>

struct [[checksync::persistent]] Node {
  std::string name; // expected-error {{field 'name' of persistent type 'Node' has type 'std::string': standard library types are not supported yet; mark the field [[checksync::transient]]}}
  std::vector<int> values; // expected-error {{field 'values' of persistent type 'Node' has type 'std::vector<int>': standard library types are not supported yet}}
  std::string *pname; // expected-error {{field 'pname' of persistent type 'Node' has type 'std::string *': pointers to standard library types are not supported yet}}
};
