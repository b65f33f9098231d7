// chain.h - loading what a checkpoint directory holds: the newest base plus
// the deltas that extend it, merged into one image.
#ifndef CHECKSYNC_RT_CHAIN_H
#define CHECKSYNC_RT_CHAIN_H

#include "format/format.h"

#include <memory>
#include <string>

namespace checksync::detail {

// `path` is a directory (base + deltas) or one full checkpoint file. A delta
// that is torn or corrupt, or does not follow the epoch before it (its own
// previous epoch, not its file name, says which it follows) ends the chain:
// the image is the last complete epoch before it, and `note` says what was
// ignored. A bad base is an Error.
std::unique_ptr<Image> load_chain(const std::string &path, std::string *note);
// The state at `epoch` exactly: the base and the deltas up to it. Throws
// Error if the directory does not hold that epoch (compacted away, or not
// reached).
std::unique_ptr<Image> load_chain_at(const std::string &dir, std::uint64_t epoch);

// The rule load_chain applies to each delta: it must parse, belong to chain
// `chain_id` (the base's) and apply to `tip`, the epoch the chain has
// reached. Throws Error saying why not.
// `checksync-rt serve` applies it to each delta it receives, so that it
// acknowledges only what a resume would restore.
std::unique_ptr<Image> parse_link(std::string bytes, const std::string &what,
                                  std::uint64_t tip, std::uint64_t chain_id);
// What parse_link throws for a delta of another chain (serve then asks for a
// full checkpoint instead of refusing the connection).
struct OtherChain : Error {
  using Error::Error;
};

// Only the envelopes (magic, length, checksum) of what load_chain would read:
// cheap, for `checksync-rt resume` to fail early. Returns the epoch reached.
std::uint64_t check_chain(const std::string &path, std::string *note);

} // namespace checksync::detail

#endif
