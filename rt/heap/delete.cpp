// delete.cpp - every way of freeing a persistent object returns it to the
// persistent heap (docs/architecture.md, "Deletes").
//
// 1. Instrumented code: the plugin's lowering pass redirects calls to the
//    global operator delete family to checksync_rt_<mangled name> below,
//    which frees an object of the arena here and passes anything else on to
//    the program's operator delete, whichever that is (libstdc++'s, or a
//    sanitizer's: ThreadSanitizer and AddressSanitizer define their own).
// 2. Everything else (a translation unit built without the plugin, a
//    virtual deleting destructor in one): the runtime's replacement of the
//    global family. It is weak, so a sanitizer's definitions win at link
//    time instead of clashing with it; only then does a persistent object
//    deleted from uninstrumented code miss the heap (README, Limitations).
#include "heap/heap.h"

#include <cstdlib>
#include <new>

namespace {
using checksync::detail::heap_free;
using checksync::detail::in_heap;

// The replacement: the default operator new family allocates with malloc.
inline void release(void *p) noexcept {
  if (!p)
    return;
  if (in_heap(p))
    heap_free(p);
  else
    std::free(p);
}
} // namespace

void checksync::detail::link_deletes() noexcept {}

#define CHECKSYNC_WEAK __attribute__((weak))
CHECKSYNC_WEAK void operator delete(void *p) noexcept { release(p); }
CHECKSYNC_WEAK void operator delete[](void *p) noexcept { release(p); }
CHECKSYNC_WEAK void operator delete(void *p, std::size_t) noexcept { release(p); }
CHECKSYNC_WEAK void operator delete[](void *p, std::size_t) noexcept { release(p); }
CHECKSYNC_WEAK void operator delete(void *p, const std::nothrow_t &) noexcept { release(p); }
CHECKSYNC_WEAK void operator delete[](void *p, const std::nothrow_t &) noexcept { release(p); }
CHECKSYNC_WEAK void operator delete(void *p, std::align_val_t) noexcept { release(p); }
CHECKSYNC_WEAK void operator delete[](void *p, std::align_val_t) noexcept { release(p); }
CHECKSYNC_WEAK void operator delete(void *p, std::size_t, std::align_val_t) noexcept {
  release(p);
}
CHECKSYNC_WEAK void operator delete[](void *p, std::size_t, std::align_val_t) noexcept {
  release(p);
}
CHECKSYNC_WEAK void operator delete(void *p, std::align_val_t, const std::nothrow_t &) noexcept {
  release(p);
}
CHECKSYNC_WEAK void operator delete[](void *p, std::align_val_t,
                                      const std::nothrow_t &) noexcept {
  release(p);
}
#undef CHECKSYNC_WEAK

// The redirected calls (pass/LowerPass.cpp, DeleteFns): same signatures.
#define CHECKSYNC_DELETE(NAME, PARAMS, ARGS, FORWARD)                                        \
  extern "C" void checksync_rt##NAME PARAMS noexcept {                                       \
    if (p && in_heap(p))                                                                     \
      heap_free(p);                                                                          \
    else                                                                                     \
      FORWARD ARGS;                                                                          \
  }
CHECKSYNC_DELETE(_ZdlPv, (void *p), (p), ::operator delete)
CHECKSYNC_DELETE(_ZdaPv, (void *p), (p), ::operator delete[])
CHECKSYNC_DELETE(_ZdlPvm, (void *p, std::size_t n), (p, n), ::operator delete)
CHECKSYNC_DELETE(_ZdaPvm, (void *p, std::size_t n), (p, n), ::operator delete[])
CHECKSYNC_DELETE(_ZdlPvRKSt9nothrow_t, (void *p, const std::nothrow_t &t), (p, t),
                 ::operator delete)
CHECKSYNC_DELETE(_ZdaPvRKSt9nothrow_t, (void *p, const std::nothrow_t &t), (p, t),
                 ::operator delete[])
CHECKSYNC_DELETE(_ZdlPvSt11align_val_t, (void *p, std::align_val_t a), (p, a),
                 ::operator delete)
CHECKSYNC_DELETE(_ZdaPvSt11align_val_t, (void *p, std::align_val_t a), (p, a),
                 ::operator delete[])
CHECKSYNC_DELETE(_ZdlPvmSt11align_val_t, (void *p, std::size_t n, std::align_val_t a),
                 (p, n, a), ::operator delete)
CHECKSYNC_DELETE(_ZdaPvmSt11align_val_t, (void *p, std::size_t n, std::align_val_t a),
                 (p, n, a), ::operator delete[])
CHECKSYNC_DELETE(_ZdlPvSt11align_val_tRKSt9nothrow_t,
                 (void *p, std::align_val_t a, const std::nothrow_t &t), (p, a, t),
                 ::operator delete)
CHECKSYNC_DELETE(_ZdaPvSt11align_val_tRKSt9nothrow_t,
                 (void *p, std::align_val_t a, const std::nothrow_t &t), (p, a, t),
                 ::operator delete[])
#undef CHECKSYNC_DELETE
