// verify.h - the correctness oracle (CHECKSYNC_VERIFY=1): a replica of the
// stored state, updated from every checkpoint exactly as resume would apply
// it, compared after each checkpoint with a full image of the heap. The first
// object/field that differs is reported: a write the barrier missed.
#ifndef CHECKSYNC_RT_VERIFY_H
#define CHECKSYNC_RT_VERIFY_H

#include "format/format.h"

#include <string>
#include <unordered_map>

namespace checksync::detail {

class Replica {
public:
  // Applies an encoded checkpoint (full: replaces everything).
  void apply(const std::string &bytes);
  // Compares with a full image of the heap now; "" if equal, else the first
  // difference, e.g. "object #12 (Node) field 'key': stored 3, heap 4".
  std::string compare(const std::string &full_bytes) const;

private:
  std::unordered_map<std::uint64_t, std::string> objects_; // id -> [type key, values...]
};

} // namespace checksync::detail

#endif
