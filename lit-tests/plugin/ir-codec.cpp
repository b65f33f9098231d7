// A library-typed field or root points at the linkonce_odr constant
// checksync::codec::entry<T> that the plugin instantiates (with the codec
// functions), at -O0 and -O2. Arrays of library types have a count.
// RUN: %clangxx -std=c++20 -O0 -S -emit-llvm -fplugin=%plugin %csinclude %s -o - | FileCheck %s
// RUN: %clangxx -std=c++20 -O2 -S -emit-llvm -fplugin=%plugin %csinclude %s -o - | FileCheck %s
// RUN: %clangxx -std=c++20 -O0 -S -emit-llvm -fplugin=%plugin %csinclude %s -o - | FileCheck %s --check-prefix=SPELL
#include <checksync/checksync.h>

struct [[checksync::persistent]] Item {
  int x;
};
using Name = std::string;
struct [[checksync::persistent]] Node {
  long key;                                     // 0
  std::string name;                             // 8   codec 32
  std::unordered_map<Name, Item *> index;       // 40  codec 56
  std::vector<int> values[2];                   // 96  codec 24 x2
};
[[checksync::root]] std::vector<Node *> all;

Node *make() { return new Node; }

// One entry per distinct type (the alias Name shares std::string's).
// CHECK-DAG: @[[STR:_ZN9checksync5codec5entryINSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEEEE]] = linkonce_odr {{.*}}constant %"struct.checksync::codec::Entry" { ptr @_ZN9checksync5codec5codecINSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEEE6encodeEPKvRNS0_6WriterE,
// CHECK-DAG: @[[MAP:_ZN9checksync5codec5entryISt13unordered_map[A-Za-z0-9_]*]] = linkonce_odr {{.*}}constant %"struct.checksync::codec::Entry"
// CHECK-DAG: @[[VEC:_ZN9checksync5codec5entryISt6vectorIiSaIiEEEE]] = linkonce_odr {{.*}}constant %"struct.checksync::codec::Entry"
// CHECK-DAG: @[[ROOTVEC:_ZN9checksync5codec5entryISt6vectorIP4NodeSaIS4_EEEE]] = linkonce_odr {{.*}}constant %"struct.checksync::codec::Entry"
// SPELL-DAG: c"std::string\00"
// SPELL-DAG: c"std::unordered_map<std::string, Item *>\00"
// SPELL-DAG: c"std::vector<int>\00"
// SPELL-DAG: c"std::vector<Node *>\00"

// CHECK: @checksync.fields.4Node = private unnamed_addr constant [4 x %checksync.field_desc] [
// CHECK-SAME: %checksync.field_desc { ptr @{{[^,]*}}, i64 0, i32 1, i32 8, i64 1, ptr null, ptr null, ptr null, ptr null, i64 0, i64 0 },
// CHECK-SAME: %checksync.field_desc { ptr @{{[^,]*}}, i64 8, i32 7, i32 32, i64 1, ptr @{{[^,]*}}, ptr @[[STR]], ptr null, ptr null, i64 0, i64 0 },
// CHECK-SAME: %checksync.field_desc { ptr @{{[^,]*}}, i64 40, i32 7, i32 56, i64 1, ptr @{{[^,]*}}, ptr @[[MAP]], ptr null, ptr null, i64 0, i64 0 },
// CHECK-SAME: %checksync.field_desc { ptr @{{[^,]*}}, i64 96, i32 7, i32 24, i64 2, ptr @{{[^,]*}}, ptr @[[VEC]], ptr null, ptr null, i64 0, i64 0 }]
// CHECK: @checksync.roots = private constant [1 x %checksync.root_desc] [%checksync.root_desc { ptr @all, %checksync.field_desc { ptr @{{[^,]*}}, i64 0, i32 7, i32 24, i64 1, ptr @{{[^,]*}}, ptr @[[ROOTVEC]], ptr null, ptr null, i64 0, i64 0 } }]
// CHECK: @checksync.module = private constant %checksync.module_desc { i64 5,

// The codec functions are emitted with their entries.
// CHECK-DAG: define linkonce_odr {{.*}}@_ZN9checksync5codec5codecINSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEEE6encodeEPKvRNS0_6WriterE(
// CHECK-DAG: define linkonce_odr {{.*}}@_ZN9checksync5codec5codecISt6vectorIiSaIiEEE6decodeERKNS0_5ValueEPv(
