// snapshot.h - the two persistence schemes checksync-kv is compared with,
// writing into the same directory as CheckSync's checkpoints:
//   full: serialise the whole table in the event loop, i.e. under the lock
//         (what go-cache's own snapshot does);
//   fork: fork() and serialise in the child from its copy-on-write view of
//         memory (what Redis BGSAVE does).
// Both write DIR/kv-<kind>.snap through a temporary file, fsync and rename.
#ifndef CHECKSYNC_KV_SNAPSHOT_H
#define CHECKSYNC_KV_SNAPSHOT_H

#include "table.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace kv {

// Binary image: u64 count, then per entry u32 key length, key, u32 value
// length, value, i64 expiry.
inline std::string serialise(const Store &store) {
  std::string out(8, '\0');
  std::uint64_t n = 0;
  store.for_each([&](const Entry &e) {
    std::uint32_t kl = std::uint32_t(e.key.size()), vl = std::uint32_t(e.value.size());
    out.append(reinterpret_cast<const char *>(&kl), 4);
    out += e.key;
    out.append(reinterpret_cast<const char *>(&vl), 4);
    out += e.value;
    out.append(reinterpret_cast<const char *>(&e.expire_ms), 8);
    ++n;
  });
  std::memcpy(out.data(), &n, 8);
  return out;
}

inline bool write_durably(const std::string &path, const std::string &bytes) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return false;
  std::size_t off = 0;
  while (off < bytes.size()) {
    ssize_t w = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (w <= 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      return false;
    }
    off += std::size_t(w);
  }
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok && ::rename(tmp.c_str(), path.c_str()) == 0;
}

class ForkSnapshotter {
public:
  // Starts a snapshot unless one is still running. Returns false if busy.
  bool start(const Store &store, const std::string &path) {
    reap();
    if (child_ > 0)
      return false;
    child_ = ::fork();
    if (child_ == 0)
      ::_exit(write_durably(path, serialise(store)) ? 0 : 1);
    return child_ > 0;
  }
  void reap() {
    if (child_ > 0 && ::waitpid(child_, nullptr, WNOHANG) == child_)
      child_ = -1;
  }

private:
  pid_t child_ = -1;
};

} // namespace kv

#endif
