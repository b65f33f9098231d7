// Elements, keys and values of library types follow the field rules: raw
// pointers must point to persistent types, records must be persistent.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin %csinclude -Xclang -verify %s
#include <checksync/checksync.h>

struct Plain { int x; };
struct Undefined; // never defined with the attribute
struct [[checksync::persistent]] Item { int x; };
struct [[checksync::persistent]] Node {
  std::vector<int *> ints; // expected-error {{field 'ints' of persistent type 'Node' has type 'std::vector<int *>': element type 'int *' of 'std::vector<int *>' is a raw pointer to a non-persistent type: 'int' is not a [[checksync::persistent]] type; if the field only caches what the program can rebuild, mark it [[checksync::transient]]: its contents will not survive a resume}}
  std::map<std::string, Plain *> plains; // expected-error {{element type 'Plain *' of 'std::map<std::string, Plain *>' is a raw pointer to a non-persistent type: 'Plain' is not [[checksync::persistent]]; mark 'Plain' [[checksync::persistent]]; or, if the field only caches what the program can rebuild, mark it [[checksync::transient]]: its contents will not survive a resume}}
  std::optional<std::pair<int, std::vector<void *>>> deep; // expected-error {{element type 'void *' of 'std::vector<void *>' is a raw pointer to a non-persistent type}}
  std::vector<Plain> values; // expected-error {{element type 'Plain' of 'std::vector<Plain>' is not [[checksync::persistent]], so its layout is unknown; mark 'Plain' [[checksync::persistent]]; or, if the field only caches what the program can rebuild, mark it [[checksync::transient]]: its contents will not survive a resume}}
  std::tuple<int, void (*)()> fn; // expected-error {{element type 'void (*)()' of 'std::tuple<int, void (*)()>' is a function pointer, which cannot be checkpointed}}
  std::vector<Undefined *> later; // expected-error {{field 'later' of persistent type 'Node' has type 'std::vector<Undefined *>': raw pointers to non-persistent types cannot be checkpointed: 'Undefined' is not [[checksync::persistent]] (it is never defined with the attribute in this translation unit)}}
  std::unordered_map<std::string, std::vector<Item *>> ok1;
  std::array<Item, 3> ok2;
  std::tuple<int, std::wstring, const Item *, std::chrono::seconds> ok3;
  std::deque<std::set<std::u32string>> ok4;
};
