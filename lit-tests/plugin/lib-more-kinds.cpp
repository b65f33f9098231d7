// Library kinds beyond the basic containers, each accepted as a field, as a
// root and as an element: list and forward_list, multi-containers, adapters (with their default or
// a stated underlying container), bitset, complex, variant (with monostate,
// refs and persistent records among its alternatives), and const elements.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin %csinclude -Xclang -verify %s
// expected-no-diagnostics
#include <checksync/checksync.h>

#include <bitset>
#include <complex>
#include <forward_list>
#include <list>
#include <queue>
#include <stack>
#include <variant>

struct [[checksync::persistent]] Item {
  int id;
};
struct [[checksync::persistent]] Point {
  int x, y;
};

struct [[checksync::persistent]] Kinds {
  std::multimap<int, std::string> mm;
  std::multiset<short> ms;
  std::unordered_multimap<std::string, Item *> umm;
  std::unordered_multiset<long> ums;
  std::queue<Item *> q;
  std::queue<int, std::deque<int>> qd;
  std::stack<int> st;
  std::stack<int, std::vector<int>> sv;
  std::priority_queue<long> pq;
  std::priority_queue<long, std::vector<long>, std::greater<long>> minq;
  std::bitset<100> bits;
  std::complex<double> z;
  std::complex<float> zf;
  std::variant<std::monostate, int, std::string, Item *, Point> v;
  std::vector<std::variant<int, Point>> vs;
  std::vector<std::pair<const std::string, int>> cp;
  std::optional<const long> co;
  std::array<const char, 4> ca;
  std::map<int, std::multiset<int>> nested;
  std::list<Item *> lru;
  std::forward_list<std::string> fl;
};

[[checksync::root]] std::multimap<int, Item *> root_mm;
[[checksync::root]] std::variant<std::monostate, Point> root_v;
[[checksync::root]] std::priority_queue<int> root_pq;
