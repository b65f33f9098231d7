// Containers must use the default allocator (the codec cannot rebuild a
// custom one). Comparators, hashers and key_equal may be anything without
// state (the codec rebuilds them by default construction): std::greater<K>,
// std::less<>, a user's empty function object. One with data members would
// lose it, so it is an error that says so.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin %csinclude -Xclang -verify %s
#include <checksync/checksync.h>

template <class T> struct Alloc : std::allocator<T> {
  template <class U> struct rebind { using other = Alloc<U>; };
};
struct Greater { bool operator()(int a, int b) const { return a > b; } };
struct Hash { std::size_t operator()(int x) const { return x; } };
struct Eq { bool operator()(int a, int b) const { return a == b; } };
struct Threshold { // carries state
  int limit;
  bool operator()(int a, int b) const { return (a < limit) < (b < limit); }
};
struct Salted {
  std::size_t salt;
  std::size_t operator()(int x) const { return x ^ salt; }
};
struct [[checksync::persistent]] Node {
  std::vector<int, Alloc<int>> v; // expected-error {{field 'v' of persistent type 'Node' has type 'std::vector<int, Alloc<int>>': template argument 2 of 'std::vector<int, Alloc<int>>' is 'Alloc<int>', not the default std::allocator<int>: the codec cannot rebuild a custom allocator; use the default allocator; or, if the field only caches what the program can rebuild, mark it [[checksync::transient]]: its contents will not survive a resume}}
  std::map<int, int, std::less<int>, Alloc<std::pair<const int, int>>> ma; // expected-error {{template argument 4 of 'std::map<int, int, std::less<int>, Alloc<std::pair<const int, int>>>' is 'Alloc<std::pair<const int, int>>', not the default std::allocator: the codec cannot rebuild a custom allocator}}
  std::map<int, long, Threshold> m; // expected-error {{template argument 3 of 'std::map<int, long, Threshold>' is 'Threshold', a comparator with state (or not default-constructible): resume rebuilds the comparator by default construction, which would lose that state; use a comparator without data members (e.g. std::less<>, std::greater<K>, an empty struct); or, if the field only caches what the program can rebuild, mark it [[checksync::transient]]: its contents will not survive a resume}}
  std::unordered_set<int, Salted> h; // expected-error {{template argument 2 of 'std::unordered_set<int, Salted>' is 'Salted', a hasher with state}}
  // Stateless: accepted.
  std::map<int, long, Greater> greater;
  std::set<int, std::less<>> transparent;
  std::set<int, std::greater<int>> descending;
  std::unordered_set<int, Hash> hashed;
  std::unordered_map<int, int, std::hash<int>, Eq> keyed;
  std::map<int, int> ok;
};
