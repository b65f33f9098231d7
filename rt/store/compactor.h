// compactor.h - merges a directory's base and deltas into a new base on a
// background thread, so resume replays a short chain and the directory stays
// a small multiple of the live state. Used by the runtime's local store and by
// `checksync-rt serve`.
//
// Policy: compact once `after` deltas follow the base (0: never by count), or
// once the deltas' bytes exceed `ratio` times the base's (0: never by size).
// The new base is compressed (format version 4) unless the level is 0.
#ifndef CHECKSYNC_RT_COMPACTOR_H
#define CHECKSYNC_RT_COMPACTOR_H

#include "store/store.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace checksync::detail {

class Compactor {
public:
  // compress_level: zstd level of the bases written (0: uncompressed).
  Compactor(DirStore &store, std::uint64_t after, double ratio, int compress_level);
  ~Compactor(); // stops the thread (a running merge finishes first)
  Compactor(const Compactor &) = delete;
  Compactor &operator=(const Compactor &) = delete;

  // Call after each checkpoint file is stored.
  void stored(bool full, std::uint64_t bytes);
  // Blocks until no merge is running (before handing the directory over).
  void stop();
  // A merge is running or requested.
  bool busy() const { return merging_ || requested_; }
  // stop(), but a running merge ends after its current step (loading the
  // chain, encoding the merged base) and writes nothing: a takeover must not
  // wait minutes for the merge of a large chain.
  void abandon();

private:
  void loop();
  DirStore &store_;
  std::uint64_t after_;
  double ratio_;
  int compress_level_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t deltas_ = 0, delta_bytes_ = 0, base_bytes_ = 0;
  std::atomic<bool> requested_{false};
  bool stopping_ = false;
  std::atomic<bool> merging_{false};
  std::atomic<bool> abandon_{false}; // abandon() called: the running merge ends early
  std::thread thread_;
};

} // namespace checksync::detail

#endif
