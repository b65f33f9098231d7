// pipeline.cpp - see pipeline.h.
#include "runtime/pipeline.h"
#include "heap/tsan.h"
#include "log/log.h"

#include <cstdio>

namespace checksync::detail {

Runtime &rt() {
  static Runtime *r = new Runtime; // never destroyed; flushed at exit
  return *r;
}

namespace {

// Stores one encoded checkpoint (CHECKSYNC_DIR). Returns false if it was not.
bool store_job(Runtime &r, const Job &j) {
  std::string error;
  if (r.chain_broken && !j.full) {
    error = "an earlier checkpoint was not stored, so this delta has nothing to apply "
            "to (the next checkpoint will be full)";
  } else {
    try {
      r.store->write(j.epoch, j.full, j.bytes);
      r.chain_broken = false;
      LOG_DEBUG("checkpoint %llu stored (%s, %zu bytes)", (unsigned long long)j.epoch,
                j.full ? "full" : "delta", j.bytes.size());
      return true;
    } catch (const Error &e) {
      error = e.what();
      r.chain_broken = true;
    }
  }
  LOG_ERROR("checkpoint %llu was not stored: %s", (unsigned long long)j.epoch, error.c_str());
  r.force_full = true; // later deltas would not apply to anything
  return false;
}

} // namespace

// The encoder thread: encodes published deltas in epoch order, while the
// pipeline thread may still be storing or shipping an earlier checkpoint.
void encoder_loop(Runtime &r) {
  std::unique_lock lock(r.q_mu);
  for (;;) {
    Job *j = nullptr;
    r.q_cv.wait(lock, [&] {
      for (Job &q : r.queue)
        if (!q.ready) {
          j = &q;
          break;
        }
      return j || r.stopping;
    });
    if (!j)
      return;
    lock.unlock(); // the job stays in the queue: the pipeline waits for it
    try {
      TsanIgnoreThisThread hidden; // ordered by copy-on-write (heap/tsan.h)
      j->bytes = j->delta->encode();
      j->pages = j->delta->info().stats.pages_touched;
    } catch (const std::exception &e) { // a codec threw, out of memory
      LOG_ERROR("checkpoint %llu could not be encoded: %s", (unsigned long long)j->epoch, e.what());
      j->failed = true;
      r.force_full = true;
    } catch (...) { // a user codec may throw anything
      LOG_ERROR("checkpoint %llu could not be encoded: a codec threw",
                (unsigned long long)j->epoch);
      j->failed = true;
      r.force_full = true;
    }
    if (!j->failed && !j->expected.empty() && j->expected != j->bytes) {
      LOG_ERROR("verify: epoch %llu: the delta encoded while the program ran differs from "
                "the one encoded at checkpoint()",
                (unsigned long long)j->epoch);
      std::abort();
    }
    lock.lock();
    j->copies = j->delta->copies();
    r.retired.push_back(std::move(j->delta));
    j->delta.reset();
    j->ready = true;
    --r.encoding;
    if (r.last.epoch == j->epoch) {
      r.last.bytes = j->bytes.size();
      r.last.pages_touched = j->pages;
      r.last.copied_before_write = j->copies;
      r.last.encoded = true; // final, also when it failed (then bytes is 0)
    }
    if (!j->failed) {
      r.last.total_bytes += j->bytes.size();
      r.last.total_pages_touched += j->pages;
      r.last.total_copied_before_write += j->copies;
    }
    r.q_cv.notify_all();
  }
}

// The pipeline thread: stores or ships every checkpoint, in epoch order.
void pipeline_loop(Runtime &r) {
  std::unique_lock lock(r.q_mu);
  for (;;) {
    r.q_cv.wait(lock, [&] {
      return (r.stopping && r.queue.empty()) || (!r.queue.empty() && r.queue.front().ready);
    });
    if (r.queue.empty())
      return;
    Job &j = r.queue.front();
    lock.unlock();
    std::uint64_t size = j.bytes.size();
    bool stored = false;
    if (!j.failed && r.replicas)
      r.replicas->submit(j.epoch, j.full, j.prev_epoch, j.chain_id, std::move(j.bytes));
    else if (j.failed && r.replicas)
      r.replicas->forget(j.epoch); // never shipped: nothing to wait for (the next is full)
    else if (!j.failed && r.store)
      stored = store_job(r, j);
    lock.lock();
    if (stored) {
      r.durable = j.epoch;
      r.compactor->stored(j.full, size);
    }
    if (j.failed)
      r.unencoded.push_back(j.epoch);
    r.processed = j.epoch;
    r.queue.pop_front();
    r.q_cv.notify_all();
  }
}

// Lets the pipeline finish what was checkpointed, then stops it.
void drain_pipeline(Runtime &r) {
  {
    std::unique_lock lock(r.q_mu);
    r.q_cv.wait(lock, [&] { return r.queue.empty(); });
    r.stopping = true;
    r.q_cv.notify_all();
  }
  if (r.pipeline.joinable())
    r.pipeline.join();
  if (r.encoder.joinable())
    r.encoder.join();
}

} // namespace checksync::detail
