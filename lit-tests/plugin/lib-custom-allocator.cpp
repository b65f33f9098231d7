// Containers must use the default allocator, comparator, hasher and
// key_equal: the codec rebuilds them with the defaults.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin %csinclude -Xclang -verify %s
#include <checksync/checksync.h>

template <class T> struct Alloc : std::allocator<T> {
  template <class U> struct rebind { using other = Alloc<U>; };
};
struct Greater { bool operator()(int a, int b) const { return a > b; } };
struct Hash { std::size_t operator()(int x) const { return x; } };
struct Eq { bool operator()(int a, int b) const { return a == b; } };
struct [[checksync::persistent]] Node {
  std::vector<int, Alloc<int>> v; // expected-error {{field 'v' of persistent type 'Node' has type 'std::vector<int, Alloc<int>>': template argument 2 of 'std::vector<int, Alloc<int>>' is 'Alloc<int>', not the default std::allocator<int>: the codec cannot rebuild a custom allocator; use the default allocator or mark the field [[checksync::transient]]}}
  std::map<int, long, Greater> m; // expected-error {{template argument 3 of 'std::map<int, long, Greater>' is 'Greater', not the default std::less<int>: the codec cannot rebuild a custom comparator; use the default comparator or mark the field [[checksync::transient]]}}
  std::set<int, std::less<>> s; // expected-error {{template argument 2 of 'std::set<int, std::less<void>>' is 'std::less<void>', not the default std::less<int>: the codec cannot rebuild a custom comparator}}
  std::unordered_set<int, Hash> h; // expected-error {{template argument 2 of 'std::unordered_set<int, Hash>' is 'Hash', not the default std::hash<int>: the codec cannot rebuild a custom hasher; use the default hasher or mark the field [[checksync::transient]]}}
  std::unordered_map<int, int, std::hash<int>, Eq> e; // expected-error {{template argument 4 of 'std::unordered_map<int, int, std::hash<int>, Eq>' is 'Eq', not the default std::equal_to<int>: the codec cannot rebuild a custom key_equal}}
  std::map<int, int, std::less<int>, Alloc<std::pair<const int, int>>> ma; // expected-error {{template argument 4 of 'std::map<int, int, std::less<int>, Alloc<std::pair<const int, int>>>' is 'Alloc<std::pair<const int, int>>', not the default std::allocator: the codec cannot rebuild a custom allocator}}
  std::map<int, int> ok;
};
