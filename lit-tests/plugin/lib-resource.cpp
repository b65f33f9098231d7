// Resources (code, threads, locks, atomics) cannot be checkpointed: the hint
// is to mark the field transient.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin %csinclude -Xclang -verify %s
#include <checksync/checksync.h>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <thread>

struct [[checksync::persistent]] Node {
  std::function<void()> f; // expected-error {{field 'f' of persistent type 'Node' has type 'std::function<void ()>': 'std::function' holds code and captured state, which cannot be checkpointed; mark the field [[checksync::transient]] and set it again after resume}}
  std::thread t; // expected-error {{field 't' of persistent type 'Node' has type 'std::thread': 'std::thread' is a running thread, a resource that does not survive a resume; suggest [[checksync::transient]]}}
  std::jthread jt; // expected-error {{'std::jthread' is a running thread}}
  std::mutex m; // expected-error {{field 'm' of persistent type 'Node' has type 'std::mutex': 'std::mutex' is a synchronisation resource, which cannot be checkpointed; suggest [[checksync::transient]]: resume value-initialises transient fields}}
  std::shared_mutex sm; // expected-error {{'std::shared_mutex' is a synchronisation resource}}
  std::condition_variable cv; // expected-error {{'std::condition_variable' is a synchronisation resource}}
  std::atomic<long> counter; // expected-error {{field 'counter' of persistent type 'Node' has type 'std::atomic<long>': 'std::atomic' is a resource shared between threads, which the codec does not encode; suggest [[checksync::transient]], or hold a plain value}}
  std::vector<std::function<void()>> callbacks; // expected-error {{'std::function' holds code}}
  // Transient, they are fine (constructed again on resume).
  [[checksync::transient]] std::mutex ok_m;
  [[checksync::transient]] std::atomic<long> ok_counter;
  [[checksync::transient]] std::function<void()> ok_f;
};
