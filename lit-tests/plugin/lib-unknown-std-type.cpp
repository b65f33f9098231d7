// A standard library type without a codec is an error; so is a raw pointer
// to a library type. The hint mentions transient only for a cache, and says
// its contents are lost.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin %csinclude -Xclang -verify %s
#include <checksync/checksync.h>
#include <valarray>

struct [[checksync::persistent]] Node {
  std::valarray<int> values; // expected-error {{field 'values' of persistent type 'Node' has type 'std::valarray<int>': the codec does not know how to encode 'std::valarray'; if the field only caches what the program can rebuild, mark it [[checksync::transient]]: its contents will not survive a resume}}
  std::vector<std::valarray<int>> nested; // expected-error {{field 'nested' of persistent type 'Node' has type 'std::vector<std::valarray<int>>': the codec does not know how to encode 'std::valarray'}}
  std::string *pname; // expected-error {{field 'pname' of persistent type 'Node' has type 'std::string *': pointers to standard library types are not supported yet}}
  std::basic_string<unsigned char> bytes; // expected-error {{has type 'std::basic_string<unsigned char>': the codec supports strings of char, wchar_t, char8_t, char16_t and char32_t only}}
  std::string ok;
};
namespace std { template <class T> struct unheard_of {}; }
struct [[checksync::persistent]] Odd {
  std::unheard_of<int> u; // expected-error {{the codec does not know how to encode 'std::unheard_of'; if the field only caches what the program can rebuild, mark it [[checksync::transient]]: its contents will not survive a resume}}
};
