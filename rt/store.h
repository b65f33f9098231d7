// store.h - the local checkpoint directory: one file per checkpoint,
// "ckpt-<epoch, 20 digits>.csk", written to a temporary name, fsync'ed and
// renamed, then the directory fsync'ed: a crash leaves the previous complete
// checkpoint in place. A lock file keeps two writers out of one directory.
#ifndef CHECKSYNC_RT_STORE_H
#define CHECKSYNC_RT_STORE_H

#include <cstdint>
#include <string>
#include <vector>

namespace checksync::detail {

struct StoredCheckpoint {
  std::uint64_t epoch;
  std::string path;
};

// Complete checkpoints in `dir`, oldest first. Throws Error if dir is unreadable.
std::vector<StoredCheckpoint> list_checkpoints(const std::string &dir);

// `path` itself if it is a file; else the newest complete checkpoint in the
// directory. Throws Error: missing path, or a directory with no checkpoint.
std::string newest_checkpoint(const std::string &path);

class DirStore {
public:
  // Creates the directory if needed and takes its lock. Throws Error.
  explicit DirStore(std::string dir, unsigned keep = 2);
  ~DirStore();
  DirStore(const DirStore &) = delete;
  DirStore &operator=(const DirStore &) = delete;

  // Writes, fsyncs, renames into place and prunes all but the newest `keep`.
  // Throws Error (e.g. "No space left on device") leaving earlier files intact.
  void write(std::uint64_t epoch, const std::string &bytes);
  const std::string &dir() const { return dir_; }

private:
  std::string dir_;
  unsigned keep_;
  int lock_fd_ = -1;
};

std::string read_whole_file(const std::string &path); // throws Error

} // namespace checksync::detail

#endif
