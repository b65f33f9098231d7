// cow.h - object-level copy-on-write while a delta is encoded off the
// program's thread (snapshot at the beginning, as concurrent garbage
// collectors do; docs/performance.md).
//
// At checkpoint() the runtime collects the delta's objects and publishes them
// here: each object's cards get the "in flight" bit (abi.h), so the write
// barrier takes its slow path on them. The encoder thread then encodes the
// objects straight from the heap, claiming each one first. A write to an
// object not claimed yet first makes a copy of it (the pre-image) through the
// copy callback, which the encoder uses instead; a write to an object being
// encoded waits for the encoder to finish that object (microseconds). Blocks
// freed meanwhile stay allocated, header intact, until the encoder is done, so
// refs to them still resolve to their ids.
//
// Per object, one of: pending -> encoding -> encoded (the encoder's), or
// pending -> copying -> copied (a writer's); never both.
#ifndef CHECKSYNC_RT_COW_H
#define CHECKSYNC_RT_COW_H

#include "heap/heap.h"
#include "heap/tsan.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace checksync::detail {

class CowDelta {
public:
  // objects: the delta's, in address order (sorted here if not). copy(i)
  // saves object i's current contents; it runs on a writing thread, at most
  // once per object, and may throw (the delta then fails: failed()).
  CowDelta(std::vector<ObjHeader *> objects, std::function<void(std::size_t)> copy);
  ~CowDelta();
  CowDelta(const CowDelta &) = delete;
  CowDelta &operator=(const CowDelta &) = delete;

  const std::vector<ObjHeader *> &objects() const { return objects_; }

  // On the checkpointing thread, before the program runs on: flags the cards
  // and starts watching writes and frees.
  void publish();
  // The encoder: true if object i is the encoder's to read from the heap (it
  // then calls encoded(i)); false once a copy of it exists.
  bool claim(std::size_t i);
  void encoded(std::size_t i);
  // The encoder, last (also after a failure): clears the flags, stops
  // watching, frees the blocks kept meanwhile.
  void retire();
  // A copy failed (a codec threw); the delta must not be used.
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  // Copies object i now (if neither copied nor being encoded yet).
  void copy_now(std::size_t i) noexcept { save(i, /*counted=*/false); }
  // Objects copied before a write so far.
  std::uint64_t copies() const { return copies_.load(std::memory_order_relaxed); }

  // The write barrier's slow path: [p, p + n) is about to be written.
  void before_write(const void *p, std::size_t n) noexcept;
  // heap_free: true if the block must stay until retire() (called by it);
  // it is then marked kKeptMagic.
  bool keep_freed(ObjHeader *h) noexcept;

private:
  enum : std::uint8_t { kPending, kEncoding, kEncoded, kCopying, kCopied };
  void save(std::size_t i, bool counted = true) noexcept;
  void flag_cards(bool on);

  std::vector<ObjHeader *> objects_;
  std::function<void(std::size_t)> copy_;
  std::unique_ptr<std::atomic<std::uint8_t>[]> state_;
  std::atomic<bool> failed_{false};
  std::atomic<std::uint64_t> copies_{0};
  std::mutex kept_mu_;
  bool retired_ = false;
  std::vector<ObjHeader *> kept_;
};

// The published delta, or null. Read by the barrier's slow path and
// heap_free, on any mutating thread, only through CowUse: a delta is not
// destroyed while a thread that loaded it still uses it.
extern std::atomic<CowDelta *> cow_current;
extern std::atomic<long> cow_users;
class CowUse {
public:
  CowUse() noexcept { cow_users.fetch_add(1, std::memory_order_seq_cst); }
  ~CowUse() {
    tsan_release(&cow_users); // its uses end before a delta is destroyed
    cow_users.fetch_sub(1, std::memory_order_seq_cst);
  }
  CowDelta *delta() const noexcept { return cow_current.load(std::memory_order_seq_cst); }
  CowUse(const CowUse &) = delete;
  CowUse &operator=(const CowUse &) = delete;
};

// Writes ahead to [p, p + n) (checksync_rt_mark_range, touch): copies what
// must be copied, then marks the cards and pages dirty.
void cow_mark_range(const void *p, std::size_t n) noexcept;

} // namespace checksync::detail

#endif
