// chain.h - loading what a checkpoint directory holds: the newest base plus
// the deltas that extend it, merged into one image.
#ifndef CHECKSYNC_RT_CHAIN_H
#define CHECKSYNC_RT_CHAIN_H

#include "format.h"

#include <memory>
#include <string>

namespace checksync::detail {

// `path` is a directory (base + deltas) or one full checkpoint file. A delta
// that is torn or corrupt ends the chain: the image is the last complete epoch
// before it, and `note` says what was ignored. A bad base is an Error.
std::unique_ptr<Image> load_chain(const std::string &path, std::string *note);

// Only the envelopes (magic, length, checksum) of what load_chain would read:
// cheap, for `checksync-rt resume` to fail early. Returns the epoch reached.
std::uint64_t check_chain(const std::string &path, std::string *note);

} // namespace checksync::detail

#endif
