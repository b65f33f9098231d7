// checksync/checksync.h - the CheckSync user contract.
//
// Mark state-holding types [[checksync::persistent]], a few namespace-scope
// variables [[checksync::root]], compile with the CheckSync clang plugin
// (checksync-config --cxxflags) and link the runtime (--ldflags).
#ifndef CHECKSYNC_CHECKSYNC_H
#define CHECKSYNC_CHECKSYNC_H

#include <checksync/codec.h>

#include <cstdint>
#include <stdexcept>

namespace checksync {

// Thrown by checkpoint() when the persistent state cannot be checkpointed
// (e.g. a ref to something that is not a persistent object made with new).
struct error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Starts the runtime. Call first thing in main. When the process was started by
// `checksync-rt resume`, restores every persistent object reachable from the
// roots and sets the roots; on any error it prints one line and exits(3):
// never a partial state.
void init();

// True when init() restored a checkpoint.
bool resumed() noexcept;

// Takes a checkpoint of every persistent object reachable from the roots. Call
// at a consistent point (no other thread mutating persistent state). Returns
// the checkpoint's epoch; the write to storage proceeds in the background.
// Throws checksync::error (and takes no checkpoint) when the state holds a ref
// the runtime cannot follow.
std::uint64_t checkpoint();

// Blocks until checkpoint `epoch` is durable (fsync'ed) in storage. Returns
// false if it can never become durable (storage error, reported on stderr, or
// no storage configured).
bool wait_durable(std::uint64_t epoch);

} // namespace checksync

#endif
