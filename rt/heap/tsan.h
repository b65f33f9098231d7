// tsan.h - happens-before edges for ThreadSanitizer. The runtime library is
// not built with -fsanitize=thread, so TSan does not see the atomics its
// protocols synchronise with (mutator guards, copy-on-write states) and
// would report the program's own writes as races with the runtime's reads.
// Where such a protocol hands data from one thread to another it calls these:
// with a TSan-instrumented program they tell TSan; otherwise the weak symbols
// are null and each call is one predictable branch.
#ifndef CHECKSYNC_RT_TSAN_H
#define CHECKSYNC_RT_TSAN_H

extern "C" void __tsan_acquire(void *addr) __attribute__((weak));
extern "C" void __tsan_release(void *addr) __attribute__((weak));
extern "C" void __tsan_ignore_thread_begin() __attribute__((weak));
extern "C" void __tsan_ignore_thread_end() __attribute__((weak));

namespace checksync::detail {

inline bool tsan_enabled() noexcept { return __tsan_acquire != nullptr; }
inline void tsan_acquire(const void *addr) noexcept {
  if (__tsan_acquire)
    __tsan_acquire(const_cast<void *>(addr));
}
inline void tsan_release(const void *addr) noexcept {
  if (__tsan_release)
    __tsan_release(const_cast<void *>(addr));
}

// The background encoder reads objects (through the codecs compiled into the
// program) while other threads may later write them; copy-on-write, not a
// lock, orders the two (cow.h), and TSan cannot see it once a delta is
// retired and writes no longer take the slow path. Its accesses while it
// encodes are therefore hidden from TSan; the program's own accesses are
// still checked against each other.
class TsanIgnoreThisThread {
public:
  TsanIgnoreThisThread() noexcept {
    if (__tsan_ignore_thread_begin)
      __tsan_ignore_thread_begin();
  }
  ~TsanIgnoreThisThread() {
    if (__tsan_ignore_thread_end)
      __tsan_ignore_thread_end();
  }
  TsanIgnoreThisThread(const TsanIgnoreThisThread &) = delete;
  TsanIgnoreThisThread &operator=(const TsanIgnoreThisThread &) = delete;
};

} // namespace checksync::detail

#endif
