// node_holders.cpp - see node_holders.h.
#include "format/node_holders.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>

namespace checksync::detail {
namespace {
std::mutex mu;
std::map<const ObjHeader *, std::uint64_t> holders; // header -> id (a freed block may be reused)
std::atomic<std::size_t> count{0}; // holders.size(): most programs never take the lock
} // namespace

void note_node_holder(const ObjHeader *h, bool wrote_nodes) {
  if (!wrote_nodes && count.load(std::memory_order_relaxed) == 0)
    return;
  std::lock_guard lock(mu);
  if (wrote_nodes)
    holders[h] = h->id;
  else
    holders.erase(h);
  count.store(holders.size(), std::memory_order_relaxed);
}

std::vector<ObjHeader *> node_holders() {
  std::vector<ObjHeader *> live;
  if (count.load(std::memory_order_relaxed) == 0)
    return live;
  std::lock_guard lock(mu);
  for (auto it = holders.begin(); it != holders.end();) {
    auto *h = const_cast<ObjHeader *>(it->first);
    if (magic_of(h) == kLiveMagic && h->id == it->second) {
      live.push_back(h);
      ++it;
    } else {
      it = holders.erase(it);
    }
  }
  count.store(holders.size(), std::memory_order_relaxed);
  return live;
}

} // namespace checksync::detail
