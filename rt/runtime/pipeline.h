// pipeline.h - the runtime's state and its two background threads: the
// encoder (deltas published by checkpoint(), format/capture.h) and the
// pipeline (every checkpoint stored in CHECKSYNC_DIR or handed to the shipper,
// in epoch order). runtime.cpp is the public API on top of them.
#ifndef CHECKSYNC_RT_PIPELINE_H
#define CHECKSYNC_RT_PIPELINE_H

#include <checksync/checksync.h>

#include "format/capture.h"
#include "ha/leadership.h"
#include "ha/replicas.h"
#include "runtime/verify.h"
#include "store/compactor.h"
#include "store/store.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace checksync::detail {

// A checkpoint on its way to the store or the backup.
struct Job {
  std::uint64_t epoch = 0;
  bool full = false;
  std::uint64_t prev_epoch = 0, chain_id = 0;
  std::int64_t taken_us = 0;            // when checkpoint() began (lease clock)
  std::string bytes;                    // encoded (full checkpoints, verify mode)
  std::unique_ptr<DeltaEncoding> delta; // or still to encode (deltas)
  std::string expected; // CHECKSYNC_VERIFY_COW: the delta encoded at checkpoint()
  // Set by the encoder thread (at once for jobs encoded by the caller):
  bool ready = false;   // bytes are final (or encoding failed)
  bool failed = false;  // a delta that could not be encoded
  std::uint64_t pages = 0, copies = 0;
};

struct Runtime {
  std::mutex api_mu; // serialises init/checkpoint
  bool initialized = false;
  bool resumed = false;
  std::atomic<std::uint64_t> epoch{0}; // newest epoch taken
  std::uint32_t stamp = 0;             // marking / dirty-collection stamp
  std::uint32_t stamp_period = 0; // tests (CHECKSYNC_TEST_STAMP_PERIOD): wrap early
  bool warned_no_store = false;
  std::uint64_t fallbacks = 0; // deltas that had to mark from the roots
  // Number of the current checkpoint chain (a full and the deltas after it);
  // ObjHeader::stored says which objects its files hold.
  std::uint32_t chain = 0;
  std::uint64_t chain_id = 0; // ImageInfo::chain_id of the current chain
  bool need_full = true;
  std::uint64_t since_full = 0;
  std::uint64_t full_every = 0, compact_after = 1024;
  double compact_ratio = 1.0;
  int compress_level = 1;
  checkpoint_stats last; // under q_mu once the pipeline runs
  std::unique_ptr<Replica> replica; // CHECKSYNC_VERIFY
  // CHECKSYNC_VERIFY_COW=1 (tests): each delta is also encoded on the caller
  // at checkpoint(); the pipeline's bytes must equal them.
  bool verify_cow = false;
  // CHECKSYNC_BACKGROUND_ENCODE=0: deltas are encoded inside checkpoint(), as
  // full checkpoints are (for programs that write persistent objects through
  // paths the barrier cannot see: with background encoding those writes would
  // also race with the encoder).
  bool background_encode = true;

  std::unique_ptr<DirStore> store;
  std::unique_ptr<Replicas> replicas;     // CHECKSYNC_BACKUP
  std::unique_ptr<Leadership> leadership; // CHECKSYNC_COORDINATOR
  std::mutex q_mu;
  std::condition_variable q_cv;
  std::deque<Job> queue;
  // Deltas published for copy-on-write and not yet encoded; the next
  // checkpoint waits for 0 (its collection needs the flags cleared).
  int encoding = 0;
  // Encoded deltas, destroyed at the next checkpoint: a writing thread may
  // still be returning from their copy-on-write slow path until then.
  std::vector<std::unique_ptr<DeltaEncoding>> retired;
  std::uint64_t durable = 0;   // newest epoch on disk
  std::uint64_t processed = 0; // newest epoch the pipeline finished, stored/shipped or not
  std::vector<std::uint64_t> unencoded; // epochs the pipeline could not encode (rare)
  std::unique_ptr<Compactor> compactor;
  std::atomic<bool> force_full{false}; // a write or an encoding failed: the chain is broken
  bool chain_broken = false;           // pipeline thread only
  bool stopping = false;
  std::thread pipeline; // stores or ships, in epoch order
  std::thread encoder;  // encodes deltas, so that a slow disk does not hold them up
};

// The process's runtime (never destroyed; flushed at exit).
Runtime &rt();

constexpr std::size_t kMaxQueued = 2; // back-pressure: checkpoint() waits beyond this

// The threads' bodies (started by init()).
void encoder_loop(Runtime &r);
void pipeline_loop(Runtime &r);
// Lets both finish what was checkpointed, then stops them.
void drain_pipeline(Runtime &r);

} // namespace checksync::detail

#endif
