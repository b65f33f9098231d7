// Transient fields that need construction get an `inits` entry pointing at
// checksync::codec::transient_entry<T>; trivial ones are left out (zeroed).
// RUN: %clangxx -std=c++20 -O0 -S -emit-llvm -fplugin=%plugin %csinclude %s -o - | FileCheck %s
// RUN: %clangxx -std=c++20 -O2 -S -emit-llvm -fplugin=%plugin %csinclude %s -o - | FileCheck %s
#include <checksync/checksync.h>
#include <mutex>

struct Stats { long hits = 0; };
struct [[checksync::persistent]] Node {
  long key;                                  // 0
  [[checksync::transient]] std::mutex lock;  // 8   init, 40 bytes
  [[checksync::transient]] std::string cache[3]; // 48  init, 32 x3
  [[checksync::transient]] Stats *stats;     // 144 trivial: omitted
  [[checksync::transient]] Stats local;      // 152 init (member initialiser)
};
Node *make() { return new Node; }

// CHECK-DAG: @[[MUTEX:_ZN9checksync5codec15transient_entryISt5mutexEE]] = linkonce_odr {{.*}}constant %"struct.checksync::codec::Entry" { ptr null, ptr null, ptr null, ptr @_ZN9checksync5codec15transient_codecISt5mutexE9constructEPv, ptr @_ZN9checksync5codec15transient_codecISt5mutexE7destroyEPv,
// CHECK-DAG: @[[STR:_ZN9checksync5codec15transient_entryINSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEEEE]] = linkonce_odr
// CHECK-DAG: @[[STATS:_ZN9checksync5codec15transient_entryI5StatsEE]] = linkonce_odr
// CHECK-DAG: c"std::mutex\00"
// CHECK-DAG: c"Stats\00"
// CHECK: @checksync.fields.4Node = private unnamed_addr constant [1 x %checksync.field_desc] [%checksync.field_desc { ptr @{{[^,]*}}, i64 0, i32 1, i32 8, i64 1, ptr null, ptr null, ptr null, ptr null, i64 0, i64 0 }]
// CHECK: @checksync.inits.4Node = private unnamed_addr constant [3 x %checksync.field_desc] [
// CHECK-SAME: %checksync.field_desc { ptr @{{[^,]*}}, i64 8, i32 7, i32 40, i64 1, ptr @{{[^,]*}}, ptr @[[MUTEX]], ptr null, ptr null, i64 0, i64 0 },
// CHECK-SAME: %checksync.field_desc { ptr @{{[^,]*}}, i64 48, i32 7, i32 32, i64 3, ptr @{{[^,]*}}, ptr @[[STR]], ptr null, ptr null, i64 0, i64 0 },
// CHECK-SAME: %checksync.field_desc { ptr @{{[^,]*}}, i64 152, i32 7, i32 8, i64 1, ptr @{{[^,]*}}, ptr @[[STATS]], ptr null, ptr null, i64 0, i64 0 }]
// CHECK: @checksync.types = private constant [1 x %checksync.type_desc] [%checksync.type_desc { ptr @{{[^,]*}}, ptr @{{[^,]*}}, i64 160, i64 8, i64 1, ptr @checksync.fields.4Node, i64 3, ptr @checksync.inits.4Node, i64 0, ptr null, ptr null }]
// CHECK-DAG: define linkonce_odr {{.*}}@_ZN9checksync5codec15transient_codecISt5mutexE9constructEPv(
