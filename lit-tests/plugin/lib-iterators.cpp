// Iterators into node-based containers (list, forward_list, map, multimap,
// set, multiset; const or not) are accepted as fields, roots and elements
// and their codecs instantiate; iterators into containers that move their
// elements (vector, deque, unordered containers) get a diagnostic.
// RUN: %clangxx -std=c++20 -c -o /dev/null -fplugin=%plugin %csinclude -Xclang -verify %s
#include <checksync/checksync.h>

#include <deque>
#include <forward_list>
#include <list>
#include <map>
#include <set>
#include <unordered_map>
#include <vector>

struct [[checksync::persistent]] Order {
  long id;
  int qty;
};

struct [[checksync::persistent]] Book {
  std::map<int, std::list<Order>> levels;
  std::unordered_map<long, std::list<Order>::iterator> by_id; // an order book's index
  std::list<Order>::const_iterator oldest;
  std::forward_list<int>::iterator top;
  std::forward_list<int>::const_iterator top_c;
  std::map<int, std::list<Order>>::iterator best_level;
  std::multimap<int, long>::const_iterator last;
  std::set<int>::iterator seen;
  std::multiset<short>::const_iterator vote;
  std::vector<std::set<int>::iterator> marks;
  std::optional<std::list<Order>::iterator> maybe;
};

[[checksync::root]] std::map<long, int>::iterator root_cursor;

struct [[checksync::persistent]] Moving {
  std::vector<int>::iterator v; // expected-error {{is an iterator into a container that moves its elements, which does not survive a resume (only iterators into std::list, forward_list, map, multimap, set and multiset do: their elements are nodes); store the element's index, or a ref to a persistent object}}
  std::unordered_map<int, int>::iterator u; // expected-error {{is an iterator into a container whose iterators do not survive a resume (only iterators into std::list, forward_list, map, multimap, set and multiset do: their elements are nodes); store the element's key or index, or a ref to a persistent object}}
  std::deque<int>::iterator d; // expected-error {{is an iterator into a container whose iterators do not survive a resume}}
  std::list<std::vector<int>::iterator> nested; // expected-error {{}}
};

// Keys cannot hold iterators: a resume fixes iterators only after every
// container is rebuilt, and inserting a key runs the comparator or hasher.
struct ByNode {
  bool operator()(std::list<Order>::iterator a, std::list<Order>::iterator b) const {
    return a->id < b->id;
  }
};
struct [[checksync::persistent]] Keys {
  std::set<std::list<Order>::iterator, ByNode> s; // expected-error {{the key of 'std::set<std::_List_iterator<Order>, ByNode>' holds an iterator: a resume rebuilds iterators only after every container is in place, so keys cannot hold them; key the container by the element's own key or id, and keep the iterator as a mapped value}}
  std::map<std::pair<int, std::set<int>::iterator>, int> m; // expected-error {{holds an iterator}}
  std::unordered_map<std::map<int, int>::const_iterator, int> u; // expected-error {{holds an iterator}}
  std::map<int, std::list<Order>::iterator> fine;
};
