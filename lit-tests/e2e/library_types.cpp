// A program written against the public contract whose persistent types hold
// strings (short and long), vectors, maps, unordered maps of string to refs,
// optionals, nested persistent values, unique_ptr children, shared_ptrs,
// base-class refs to derived virtual objects (multiple inheritance) and
// transient fields: checkpoint, SIGKILL, resume, identical dump; transient
// fields value-initialised; virtual calls and delete through a base work.
//
// RUN: %cs_cxx %s -o %t %cs_ldflags
// RUN: rm -rf %t.d && env CHECKSYNC_DIR=%t.d not --crash %t run > %t.first
// RUN: %csrt resume --from %t.d -- %t verify > %t.second
// RUN: diff %t.first %t.second
// RUN: %csrt inspect --objects %t.d | FileCheck %s
// The verify run deleted a Rect through Shape * (virtual destructor): the
// runtime freed it, so nothing live is left unwritten.
// CHECK: unreachable, not written: 0 objects
// CHECK-DAG: Store (size {{[0-9]+}}): 1 objects
// CHECK-DAG: Rect (size {{[0-9]+}}): 0 objects
// CHECK: objects:
// CHECK: title_long = "a title long enough
// CHECK: items = {
// CHECK-SAME: #
// CHECK: motto = ["never lose state"]
// CHECK: stats = {hits=99, misses=1}
#include "Inputs/store.h"

#include <csignal>
#include <cstring>

int main(int argc, char **argv) {
  checksync::init();
  if (argc > 1 && !std::strcmp(argv[1], "verify")) {
    if (!checksync::resumed())
      return 1;
    std::fputs(dump().c_str(), stdout);
    // Transient fields are value-initialised, and usable.
    if (!store->cache.empty())
      return 4;
    store->mu.lock();
    store->mu.unlock();
    // Virtual destructor through a base pointer returns the object to the runtime.
    Shape *s = store->shapes[1];
    store->shapes.erase(store->shapes.begin() + 1);
    delete s;
    std::uint64_t e = checksync::checkpoint();
    return checksync::wait_durable(e) ? 0 : 5;
  }
  build_store();
  std::uint64_t e = checksync::checkpoint();
  if (!checksync::wait_durable(e))
    return 3;
  std::fputs(dump().c_str(), stdout);
  std::fflush(stdout);
  store->numbers.clear(); // not acknowledged
  store->title_short = "changed";
  std::raise(SIGKILL);
}
