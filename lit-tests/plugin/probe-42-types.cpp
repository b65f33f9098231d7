// The probe of 42 common field types (issue 14): one field of each, with
// the plugin's verdict. Accepted ones must also instantiate their codec
// without an error inside codec.h (this file is compiled, not only parsed).
// Rejected ones get a diagnostic that says why and what to hold instead.
// RUN: %clangxx -std=c++20 -c -o /dev/null -fplugin=%plugin %csinclude -Xclang -verify %s
#include <checksync/checksync.h>

#include <any>
#include <bitset>
#include <complex>
#include <forward_list>
#include <functional>
#include <list>
#include <queue>
#include <span>
#include <stack>
#include <string_view>
#include <variant>

enum class Color : unsigned char { red, green };
struct [[checksync::persistent]] Item {
  int id;
};

struct [[checksync::persistent]] Probe {
  int t01;
  double t02;
  bool t03;
  char t04[16];
  Color t05;
  std::string t06;
  std::wstring t07;
  std::vector<int> t08;
  std::vector<std::string> t09;
  std::deque<int> t10;
  std::array<int, 4> t11;
  std::list<int> t12;
  std::forward_list<int> t13;
  std::map<std::string, int> t14;
  std::multimap<int, int> t15;
  std::unordered_map<int, Item *> t16;
  std::unordered_multimap<int, int> t17;
  std::set<int> t18;
  std::multiset<int> t19;
  std::unordered_set<std::string> t20;
  std::unordered_multiset<int> t21;
  std::map<int, int, std::greater<int>> t22;
  std::set<std::string, std::less<>> t23;
  std::queue<int> t24;
  std::stack<int> t25;
  std::priority_queue<int> t26;
  std::optional<int> t27;
  std::variant<int, std::string> t28;
  std::vector<std::pair<const std::string, int>> t29;
  std::tuple<int, double, std::string> t30;
  std::bitset<64> t31;
  std::complex<double> t32;
  std::unique_ptr<Item> t33;
  std::shared_ptr<Item> t34;
  std::weak_ptr<Item> t35; // expected-error {{std::weak_ptr is not supported: the codec keeps only owning references; hold a std::shared_ptr or a raw pointer to the persistent type}}
  std::string_view t36; // expected-error {{a std::string_view (std::basic_string_view) refers to characters it does not own, which would dangle after resume; hold a std::string}}
  std::span<int> t37; // expected-error {{a std::span refers to elements it does not own, which would dangle after resume; hold a std::vector or std::array, or a ref to the persistent object that owns them}}
  std::any t38; // expected-error {{std::any holds a value whose type is known only at run time, which the codec cannot name; use a std::variant of the types it may hold}}
  std::function<void()> t39; // expected-error {{'std::function' holds code and captured state, which cannot be checkpointed; mark the field [[checksync::transient]] and set it again after resume (it is empty then)}}
  std::chrono::steady_clock::time_point t40;
  std::list<Item>::iterator t41;
  std::map<int, int>::iterator t42;
};
