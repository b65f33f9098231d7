// store.cpp - atomic, durable checkpoint files in a local directory.
#include "store/store.h"

#include "settings/options.h"

#include "format/format.h"
#include "schema/types.h"

#include <atomic>
#include <cstdlib>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace checksync::detail {
namespace fs = std::filesystem;

namespace {
std::string errno_text() { return std::strerror(errno); }

std::string file_name(std::uint64_t epoch, bool full) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s-%020llu%s", full ? "ckpt" : "delta",
                (unsigned long long)epoch, kFileSuffix);
  return buf;
}

bool parse_name(const std::string &name, std::uint64_t &epoch, bool &full) {
  const std::string suffix = kFileSuffix;
  std::size_t prefix = name.rfind("ckpt-", 0) == 0 ? 5 : name.rfind("delta-", 0) == 0 ? 6 : 0;
  if (!prefix || name.size() != prefix + 20 + suffix.size() ||
      name.compare(prefix + 20, suffix.size(), suffix) != 0)
    return false;
  full = prefix == 5;
  epoch = 0;
  for (size_t i = prefix; i < prefix + 20; ++i) {
    if (name[i] < '0' || name[i] > '9')
      return false;
    epoch = epoch * 10 + std::uint64_t(name[i] - '0');
  }
  return true;
}

void fsync_dir(const std::string &dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0)
    throw Error("cannot open " + dir + ": " + errno_text());
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0)
    throw Error("fsync " + dir + ": " + std::strerror(err));
}
} // namespace

std::vector<StoredCheckpoint> list_checkpoints(const std::string &dir) {
  std::error_code ec;
  std::vector<StoredCheckpoint> out;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::uint64_t epoch;
    bool full;
    if (parse_name(it->path().filename().string(), epoch, full))
      out.push_back({epoch, full, it->path().string()});
  }
  if (ec)
    throw Error("cannot read checkpoint directory " + dir + ": " + ec.message());
  std::sort(out.begin(), out.end(), [](auto &a, auto &b) {
    return a.epoch != b.epoch ? a.epoch < b.epoch : a.full > b.full;
  });
  return out;
}

ChainFiles find_chain(const std::string &dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec))
    throw Error(dir + ": no such file or directory");
  auto list = list_checkpoints(dir);
  ChainFiles chain;
  bool found = false;
  for (auto &c : list)
    if (c.full) {
      chain.base = c;
      found = true;
    }
  if (!found)
    throw Error(dir + ": no complete checkpoint in this directory");
  for (auto &c : list)
    if (!c.full && c.epoch > chain.base.epoch)
      chain.deltas.push_back(c);
  return chain;
}

std::string read_whole_file(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw Error(path + ": " + errno_text());
  std::string data;
  struct stat st;
  if (::fstat(fd, &st) == 0 && st.st_size > 0)
    data.reserve(std::size_t(st.st_size));
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      throw Error(path + ": " + std::strerror(err));
    }
    if (n == 0)
      break;
    data.append(buf, std::size_t(n));
  }
  ::close(fd);
  return data;
}

DirStore::DirStore(std::string dir) : dir_(std::move(dir)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec)
    throw Error("cannot create checkpoint directory " + dir_ + ": " + ec.message());
  std::string lock = dir_ + "/.lock";
  lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0)
    throw Error("cannot open " + lock + ": " + errno_text());
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
    throw Error("checkpoint directory " + dir_ +
                " is in use by another process (lock held on .lock)");
  }
  // Leftovers of a writer that crashed mid-write: never complete, now ours.
  for (auto it = fs::directory_iterator(dir_, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    if ((name.rfind("ckpt-", 0) == 0 || name.rfind("delta-", 0) == 0) && name.size() > 4 &&
        name.compare(name.size() - 4, 4, ".tmp") == 0)
      fs::remove(it->path(), ec);
  }
}

DirStore::~DirStore() {
  if (lock_fd_ >= 0)
    ::close(lock_fd_);
}

bool DirStore::has_base() {
  std::lock_guard lock(mu_);
  for (auto &c : list_checkpoints(dir_))
    if (c.full)
      return true;
  return false;
}

void DirStore::prune_before(std::uint64_t epoch) {
  for (auto &c : list_checkpoints(dir_))
    if (c.epoch < epoch || (c.epoch == epoch && !c.full))
      ::unlink(c.path.c_str());
}

PendingFile::PendingFile(std::string dir, std::string name, const std::string &tmp_suffix)
    : dir_(std::move(dir)), final_(dir_ + "/" + name), tmp_(final_ + tmp_suffix) {
  static const long enospc_after = options::is_set("CHECKSYNC_TEST_ENOSPC_AFTER")
                                       ? long(options::uint("CHECKSYNC_TEST_ENOSPC_AFTER"))
                                       : -1;
  static std::atomic<long> files{0};
  inject_enospc_ = enospc_after >= 0 && name.ends_with(kFileSuffix) &&
                   files.fetch_add(1) >= enospc_after;
  fd_ = ::open(tmp_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw Error("cannot create " + tmp_ + ": " + errno_text());
}

PendingFile::~PendingFile() {
  if (fd_ >= 0)
    ::close(fd_);
  if (!committed_)
    ::unlink(tmp_.c_str());
}

void PendingFile::append(std::string_view bytes) {
  const char *p = bytes.data();
  std::size_t left = bytes.size();
  while (left) {
    ssize_t n = inject_enospc_ ? (errno = ENOSPC, -1) : ::write(fd_, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      throw Error("writing " + tmp_ + ": " + (n < 0 ? errno_text() : "short write"));
    p += n;
    left -= std::size_t(n);
  }
}

void PendingFile::patch(std::uint64_t offset, std::string_view bytes) {
  if (::pwrite(fd_, bytes.data(), bytes.size(), off_t(offset)) != ssize_t(bytes.size()))
    throw Error("writing " + tmp_ + ": " + errno_text());
}

std::uint64_t PendingFile::checksum(std::uint64_t len) {
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> st(XXH3_createState(), XXH3_freeState);
  XXH3_64bits_reset(st.get());
  std::string buf(std::min<std::uint64_t>(len, 1 << 20), '\0');
  for (std::uint64_t at = 0; at < len;) {
    std::size_t n = read_at(at, buf.data(), std::min<std::uint64_t>(buf.size(), len - at));
    if (n == 0)
      throw Error("reading back " + tmp_ + ": short file");
    XXH3_64bits_update(st.get(), buf.data(), n);
    at += n;
  }
  return XXH3_64bits_digest(st.get());
}

std::size_t PendingFile::read_at(std::uint64_t offset, char *buf, std::size_t n) {
  for (;;) {
    ssize_t got = ::pread(fd_, buf, n, off_t(offset));
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      throw Error("reading back " + tmp_ + ": " + errno_text());
    return std::size_t(got);
  }
}

void PendingFile::sync() {
  int rc = ::fsync(fd_);
  std::string why = errno_text();
  ::close(fd_);
  fd_ = -1;
  if (rc != 0)
    throw Error("fsync " + tmp_ + ": " + why);
}

void PendingFile::commit() {
  if (::rename(tmp_.c_str(), final_.c_str()) != 0)
    throw Error("rename " + tmp_ + ": " + errno_text());
  committed_ = true;
  fsync_dir(dir_);
}

void write_file_durably(const std::string &dir, const std::string &name,
                        std::string_view bytes) {
  PendingFile f(dir, name);
  f.append(bytes);
  f.sync();
  f.commit();
}

void DirStore::write(std::uint64_t epoch, bool full, std::string_view bytes) {
  write_file_durably(dir_, file_name(epoch, full), bytes);
  if (full) {
    std::lock_guard lock(mu_);
    prune_before(epoch);
  }
}

bool DirStore::commit_compacted(PendingFile &f, std::uint64_t epoch, std::uint64_t base_epoch) {
  std::lock_guard lock(mu_);
  try {
    if (find_chain(dir_).base.epoch != base_epoch)
      return false;
  } catch (const Error &) {
    return false;
  }
  f.commit();
  prune_before(epoch);
  return true;
}

std::unique_ptr<PendingFile> DirStore::begin(std::uint64_t epoch, bool full) {
  // A unique temporary name: a backup's connections may overlap on one epoch.
  static std::atomic<std::uint64_t> seq{0};
  return std::make_unique<PendingFile>(dir_, file_name(epoch, full),
                                       "." + std::to_string(seq++) + ".tmp");
}

void DirStore::commit(PendingFile &f, bool full, std::uint64_t epoch, bool new_chain) {
  if (!full) {
    f.commit();
    return;
  }
  std::lock_guard lock(mu_);
  if (new_chain) {
    // Files above the new base first (left over from a broken chain): after a
    // crash right after the rename, none may follow the new base.
    bool removed = false;
    for (auto &c : list_checkpoints(dir_))
      if (c.epoch > epoch)
        removed |= ::unlink(c.path.c_str()) == 0;
    if (removed)
      fsync_dir(dir_);
  }
  f.commit();
  if (!new_chain) {
    prune_before(epoch);
    return;
  }
  for (auto &c : list_checkpoints(dir_))
    if (c.epoch != epoch || !c.full)
      ::unlink(c.path.c_str());
}

} // namespace checksync::detail
