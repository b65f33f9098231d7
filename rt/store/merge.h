// merge.h - compaction's merge: a base and the deltas that follow it become
// one full checkpoint, written as it is produced. Objects are merged by id
// (the newest copy wins, freed ids drop out) and their value bytes copied
// verbatim, so the cost is a scan of the files plus a copy of what survives,
// and the memory is one entry per object of the deltas.
#ifndef CHECKSYNC_RT_MERGE_H
#define CHECKSYNC_RT_MERGE_H

#include "schema/types.h"
#include "store/store.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

namespace checksync::detail {

struct MergedBase {
  std::unique_ptr<PendingFile> file; // not yet synced or committed
  std::uint64_t epoch = 0;    // the last delta's
  std::uint64_t body_end = 0; // header + body bytes written
  std::uint64_t bytes = 0;    // sealed: the file's size with its trailer; else 0
  std::uint64_t objects = 0;
  std::uint32_t version = 0; // of the body (the oldest part's)
};

// Merges `chain`'s base with the deltas that link to it, each to the one
// before in the same chain (a delta that does not, or is corrupt, ends the
// merge as it ends load_chain), into the file open(epoch reached) returns;
// with `seal`, complete with its trailer (else see seal_checkpoint and
// compress_checkpoint); the caller syncs and commits it. Checks every
// input's envelope and structure and that the chain has one schema; values
// and refs were checked when the deltas were accepted and are checked again
// at resume. Throws Error; throws Abandoned as soon as `*stop` is set.
using OpenOutput = std::function<std::unique_ptr<PendingFile>(std::uint64_t epoch)>;
MergedBase merge_files(const ChainFiles &chain, const OpenOutput &open,
                       const std::atomic<bool> *stop = nullptr, bool seal = true);
// Appends the trailer to a file of header + body (body_end bytes); returns
// the file's size.
std::uint64_t seal_checkpoint(PendingFile &f, std::uint64_t body_end);
// Writes `plain` (header + body up to body_end, as merge_files leaves it;
// its trailer, if any, is not read) into `out` with its body compressed at
// zstd `level` (format version 4), trailer included. Returns the size
// written. Throws Error.
std::uint64_t compress_checkpoint(PendingFile &plain, std::uint64_t body_end, PendingFile &out,
                                  int level, const std::atomic<bool> *stop = nullptr);

struct Abandoned : Error {
  using Error::Error;
};

} // namespace checksync::detail

#endif
