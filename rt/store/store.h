// store.h - the local checkpoint directory. A full checkpoint is a base
// "ckpt-<epoch>.csk"; an incremental one is "delta-<epoch>.csk" and applies to
// the epoch before it. Every file is written to a temporary name, fsync'ed and
// renamed, then the directory fsync'ed: a crash leaves complete files only. A
// new base (written, or compacted from base + deltas) makes everything older
// obsolete. A lock file keeps two writers out of one directory.
#ifndef CHECKSYNC_RT_STORE_H
#define CHECKSYNC_RT_STORE_H

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace checksync::detail {

struct StoredCheckpoint {
  std::uint64_t epoch;
  bool full;
  std::string path;
};

// Complete checkpoint files in `dir`, by epoch (a base sorts before a delta of
// the same epoch). Throws Error if dir is unreadable.
std::vector<StoredCheckpoint> list_checkpoints(const std::string &dir);

// The newest base and the deltas after it, in epoch order.
struct ChainFiles {
  StoredCheckpoint base;
  std::vector<StoredCheckpoint> deltas;
};
// Throws Error: missing path, or a directory with no base checkpoint.
ChainFiles find_chain(const std::string &dir);

// A file written durably a piece at a time: appended to a temporary name,
// fsync'ed, then renamed into place and the directory fsync'ed. Until
// commit() nothing is visible under the final name; a file never committed
// is removed. Throws Error (e.g. "No space left on device").
class PendingFile {
public:
  // The temporary file is dir/name + tmp_suffix (ending in ".tmp", so that
  // DirStore removes it as a crash's leftover).
  PendingFile(std::string dir, std::string name, const std::string &tmp_suffix = ".tmp");
  ~PendingFile();
  PendingFile(const PendingFile &) = delete;
  PendingFile &operator=(const PendingFile &) = delete;

  void append(std::string_view bytes);
  // Overwrites bytes already appended (a count known only at the end).
  void patch(std::uint64_t offset, std::string_view bytes);
  // XXH3-64 of the first `len` bytes, read back (after patch()).
  std::uint64_t checksum(std::uint64_t len);
  // Reads back up to n bytes at offset; returns how many (0 at the end).
  std::size_t read_at(std::uint64_t offset, char *buf, std::size_t n);
  void sync();   // fsync and close: the bytes are on disk
  void commit(); // after sync(): rename into place, fsync the directory
  const std::string &temp_path() const { return tmp_; }

private:
  std::string dir_, final_, tmp_;
  int fd_ = -1;
  bool inject_enospc_ = false; // test hook, see write_file_durably
  bool committed_ = false;
};

class DirStore {
public:
  // Creates the directory if needed and takes its lock. Throws Error.
  explicit DirStore(std::string dir);
  ~DirStore();
  DirStore(const DirStore &) = delete;
  DirStore &operator=(const DirStore &) = delete;

  // Writes, fsyncs and renames into place; a base then prunes everything
  // older than it. Throws Error (e.g. "No space left on device") leaving
  // earlier files intact (see write_file_durably).
  void write(std::uint64_t epoch, bool full, std::string_view bytes);
  // A checkpoint file to fill piece by piece (the backup's, as it arrives),
  // then put in place with commit().
  std::unique_ptr<PendingFile> begin(std::uint64_t epoch, bool full);
  // Commits f (synced). A full checkpoint that starts a new chain (the
  // backup's, from the primary) then removes every other checkpoint file,
  // newer ones too: left over from a broken chain, they must never link to it.
  void commit(PendingFile &f, bool full, std::uint64_t epoch, bool new_chain);
  // Commits f (synced), a merge of the chain based at `base_epoch`, unless a
  // full checkpoint replaced that chain meanwhile (then f is dropped and the
  // result is false). Atomic with commit() of a new chain.
  bool commit_compacted(PendingFile &f, std::uint64_t epoch, std::uint64_t base_epoch);
  const std::string &dir() const { return dir_; }
  bool has_base(); // a base exists (a resumed program continues its chain)

private:
  void prune_before(std::uint64_t epoch);
  std::string dir_;
  int lock_fd_ = -1;
  std::mutex mu_; // writer and compactor threads
};

std::string read_whole_file(const std::string &path); // throws Error

// Writes dir/name atomically and durably: a temporary file, write, fsync,
// rename, fsync of the directory. Throws Error leaving any earlier dir/name
// intact. Test hook: CHECKSYNC_TEST_ENOSPC_AFTER=N makes every checkpoint file
// (.csk) written after the first N in this process fail as a full disk would
// (ENOSPC from write(2)).
void write_file_durably(const std::string &dir, const std::string &name, std::string_view bytes);

} // namespace checksync::detail

#endif
