// checksync/shared.h - what std::make_shared and std::allocate_shared of a
// persistent type become (part of checksync.h).
//
// std::make_shared<T>(args...) would construct T inside the shared_ptr's
// control block, library memory the runtime cannot track. The plugin
// redirects such calls to these functions with the same template arguments:
// T is made with new (a tracked persistent object) and the control block is
// allocated apart, as std::shared_ptr<T>(new T(args...)) does. Sharing and
// use counts survive a resume like any shared_ptr's (codec_std.h): every
// shared_ptr to one object shares one control block again.
#ifndef CHECKSYNC_SHARED_H
#define CHECKSYNC_SHARED_H

#include <memory>
#include <utility>

namespace checksync::detail {

template <class T, class... Args> std::shared_ptr<T> make_shared(Args &&...args) {
  return std::shared_ptr<T>(new T(std::forward<Args>(args)...));
}
template <class T> std::shared_ptr<T> make_shared_for_overwrite() {
  return std::shared_ptr<T>(new T);
}
// The allocator allocates the control block only: the object is persistent.
template <class T, class Alloc, class... Args>
std::shared_ptr<T> allocate_shared(const Alloc &alloc, Args &&...args) {
  return std::shared_ptr<T>(new T(std::forward<Args>(args)...), std::default_delete<T>(), alloc);
}
template <class T, class Alloc>
std::shared_ptr<T> allocate_shared_for_overwrite(const Alloc &alloc) {
  return std::shared_ptr<T>(new T, std::default_delete<T>(), alloc);
}

} // namespace checksync::detail

#endif
