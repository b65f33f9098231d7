// compactor.cpp - see compactor.h.
#include "store/compactor.h"

#include "log/log.h"
#include "schema/types.h"
#include "store/merge.h"
#include "store/store.h"

#include <cstdio>
#include <sys/resource.h>
#include <unistd.h>

namespace checksync::detail {

Compactor::Compactor(DirStore &store, std::uint64_t after, double ratio, int compress_level)
    : store_(store), after_(after), ratio_(ratio), compress_level_(compress_level),
      thread_([this] { loop(); }) {}

Compactor::~Compactor() { stop(); }

void Compactor::stop() {
  {
    std::lock_guard l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

void Compactor::abandon() {
  abandon_ = true;
  stop();
}

void Compactor::stored(bool full, std::uint64_t bytes) {
  std::lock_guard l(mu_);
  if (full) {
    deltas_ = delta_bytes_ = 0;
    base_bytes_ = bytes;
    return;
  }
  ++deltas_;
  delta_bytes_ += bytes;
  // Replaying the chain would cost more than reading a base: too many deltas,
  // or more delta bytes than the base holds.
  bool by_count = after_ && deltas_ >= after_;
  bool by_bytes = ratio_ > 0 && deltas_ > 1 && double(delta_bytes_) > ratio_ * double(base_bytes_);
  if (by_count || by_bytes) {
    requested_ = true;
    deltas_ = delta_bytes_ = 0;
    cv_.notify_all();
  }
}

void Compactor::loop() {
  // Compaction only bounds resume time and disk use: it must not take CPU
  // from the program or from receiving checkpoints. Nice 19 applies to this
  // thread only (Linux: a thread id is a process id for setpriority).
  ::setpriority(PRIO_PROCESS, ::gettid(), 19);
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || requested_; });
    if (stopping_)
      return;
    requested_ = false;
    merging_ = true;
    lock.unlock();
    // A full checkpoint written meanwhile replaces the chain being merged
    // (and removes its files): then the merge is dropped (commit_compacted).
    std::uint64_t base = 0;
    try {
      ChainFiles chain = find_chain(store_.dir());
      base = chain.base.epoch;
      if (!chain.deltas.empty() && !abandon_) {
        MergedBase merged = merge_files(
            chain, [&](std::uint64_t epoch) { return store_.begin(epoch, /*full=*/true); },
            &abandon_, /*seal=*/false);
        std::unique_ptr<PendingFile> file = std::move(merged.file);
        if (compress_level_ > 0 && merged.version == 3) { // version 2 bodies stay as they are
          auto z = store_.begin(merged.epoch, /*full=*/true);
          compress_checkpoint(*file, merged.body_end, *z, compress_level_, &abandon_);
          file = std::move(z);
        } else {
          seal_checkpoint(*file, merged.body_end);
        }
        file->sync();
        if (store_.commit_compacted(*file, merged.epoch, base)) {
          // The size trigger compares the deltas with the base's uncompressed
          // size: against the compressed size it would merge ~7x as often.
          std::lock_guard l(mu_);
          base_bytes_ = merged.body_end;
        }
      }
    } catch (const Abandoned &) {
      return; // the directory is being handed over: write nothing
    } catch (const std::exception &e) { // Error, or out of memory: the deltas stay
      bool replaced = true;
      try {
        replaced = find_chain(store_.dir()).base.epoch != base;
      } catch (const Error &) {
      }
      if (!replaced)
        LOG_ERROR("compaction failed (deltas kept): %s", e.what());
    }
    merging_ = false;
    lock.lock();
  }
}

} // namespace checksync::detail
