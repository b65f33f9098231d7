// A root's type follows the field rules.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin %csinclude -Xclang -verify %s
#include <checksync/checksync.h>
#include <valarray>

struct Plain { int x; };
struct [[checksync::persistent]] Node { int x; };
[[checksync::root]] Node *ok1;
[[checksync::root]] long ok2;
[[checksync::root]] Node ok3;
[[checksync::root]] int ok4[4];

[[checksync::root]] Plain *bad1; // expected-error {{root 'bad1' has type 'Plain *': raw pointers to non-persistent types cannot be checkpointed: 'Plain' is not [[checksync::persistent]]; a root must hold a pointer to a [[checksync::persistent]] type, a persistent value, a supported library type or plain data}}
[[checksync::root]] std::valarray<int> bad2; // expected-error {{root 'bad2' has type 'std::valarray<int>': the codec does not know how to encode 'std::valarray'; a root must hold}}
[[checksync::root]] std::vector<Node *> ok5;
[[checksync::root]] std::string ok6[2];
namespace ns { [[checksync::root]] int *bad3; } // expected-error {{root 'ns::bad3' has type 'int *'}}
