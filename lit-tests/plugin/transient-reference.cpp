// A transient field of any type is fine, except a reference or a class that
// cannot be value-initialised on resume.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin %csinclude -Xclang -verify %s
#include <checksync/checksync.h>
#include <mutex>

struct NoDefault { NoDefault(int); };
struct [[checksync::persistent]] Node {
  int x;
  [[checksync::transient]] int &ref; // expected-error {{transient field 'ref' of type 'int &' in persistent type 'Node' is a reference, which cannot be value-initialised on resume; use a pointer}}
  [[checksync::transient]] NoDefault nd; // expected-error {{transient field 'nd' of type 'NoDefault' in persistent type 'Node' has no default constructor, but resume value-initialises transient fields; add a default constructor or hold it through a pointer}}
  [[checksync::transient]] std::string ok_str;
  [[checksync::transient]] std::mutex ok_mutex[2];
  [[checksync::transient]] std::string *ok_ptr;
  [[checksync::transient]] int ok_int[4];
  [[checksync::transient]] void (*ok_fn)();
};
