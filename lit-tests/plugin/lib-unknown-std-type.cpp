// A standard library type without a codec is an error; so is a raw pointer
// to a library type. The hint for a container offers one that works, and
// mentions transient only for a cache, saying its contents are lost.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin %csinclude -Xclang -verify %s
#include <checksync/checksync.h>
#include <list>

struct [[checksync::persistent]] Node {
  std::list<int> values; // expected-error {{field 'values' of persistent type 'Node' has type 'std::list<int>': 'std::list' is not supported yet; hold the elements in a std::deque or std::vector; or, if the field only caches what the program can rebuild, mark it [[checksync::transient]]: its contents will not survive a resume}}
  std::vector<std::list<int>> nested; // expected-error {{field 'nested' of persistent type 'Node' has type 'std::vector<std::list<int>>': 'std::list' is not supported yet}}
  std::string *pname; // expected-error {{field 'pname' of persistent type 'Node' has type 'std::string *': pointers to standard library types are not supported yet}}
  std::basic_string<unsigned char> bytes; // expected-error {{has type 'std::basic_string<unsigned char>': the codec supports strings of char, wchar_t, char8_t, char16_t and char32_t only}}
  std::string ok;
};
namespace std { template <class T> struct unheard_of {}; }
struct [[checksync::persistent]] Odd {
  std::unheard_of<int> u; // expected-error {{the codec does not know how to encode 'std::unheard_of'; if the field only caches what the program can rebuild, mark it [[checksync::transient]]: its contents will not survive a resume}}
};
