// raw_image.cpp - see raw_image.h. The body is walked element by element:
// small parts (strings, the schema) are unpacked by msgpack-c, values are
// skipped with its null visitor, and the integers of object headers, read
// millions of times, are decoded here.
#include "format/raw_image.h"

#include "format/compression.h"

#include <msgpack.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace checksync::detail {
namespace {

std::uint64_t load_be(const char *p, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i)
    v = (v << 8) | std::uint8_t(p[i]);
  return v;
}

} // namespace

RawImage::RawImage(const std::string &path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw Error(path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size == 0) {
    ::close(fd);
    throw Error(path + ": empty file (an interrupted write?)");
  }
  map_len_ = std::size_t(st.st_size);
  void *m = ::mmap(nullptr, map_len_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (m == MAP_FAILED)
    throw Error(path + ": mmap: " + std::strerror(errno));
  map_ = static_cast<const char *>(m);
  ::madvise(m, map_len_, MADV_SEQUENTIAL);
  try {
    std::uint32_t envelope = check_envelope(std::string_view(map_, map_len_), path);
    version = body_version(envelope);
    region_ = map_;
    region_len_ = map_len_;
    body_ = map_ + kHeaderBytes;
    len_ = map_len_ - kHeaderBytes - kTrailerBytes;
    if (envelope == kCompressedVersion)
      decompress();
  } catch (...) {
    release();
    throw;
  }

  ExactFloats exact;
  auto unpack = [&](const char *ctx) {
    try {
      // No container may claim more elements than there are bytes.
      return msgpack::unpack(body_, len_, off_, nullptr, nullptr,
                             msgpack::unpack_limit(len_, len_, len_, len_, len_, 128));
    } catch (const std::exception &e) {
      fail(std::string("malformed ") + ctx + " (" + e.what() + ")");
    }
  };
  auto str = [&](const char *ctx) {
    auto h = unpack(ctx);
    if (h->type != msgpack::type::STR)
      fail(std::string("malformed ") + ctx);
    return std::string(h->via.str.ptr, h->via.str.size);
  };
  try {
    if (array("body") != (version >= 3 ? 12u : 11u))
      fail("malformed body");
    info.epoch = uint("epoch");
    info.kind = str("kind");
    info.created_ms = uint("timestamp");
    info.program = str("program");
    std::size_t at = off_;
    auto schema = unpack("schema");
    types = decode_schema(*schema, path);
    try {
      resolve_targets(types, nullptr);
    } catch (const Error &e) {
      fail(std::string("inconsistent schema: ") + e.what());
    }
    schema_bytes = std::string_view(body_ + at, off_ - at);
    at = off_;
    skip("roots");
    roots_bytes = std::string_view(body_ + at, off_ - at);
    if (array("heap statistics") != 2)
      fail("malformed heap statistics");
    info.live_objects = uint("live objects");
    info.live_bytes = uint("live bytes");
    object_count = array("object list");
    if (object_count == 0)
      read_tail();
  } catch (...) {
    release();
    throw;
  }
}

RawImage::~RawImage() { release(); }

void RawImage::release() {
  if (region_ && region_ != map_)
    ::munmap(const_cast<char *>(region_), region_len_);
  if (map_)
    ::munmap(const_cast<char *>(map_), map_len_);
  map_ = region_ = nullptr;
}

// The body into anonymous memory (drop_behind() can return it page by page);
// the file's mapping is released at once.
void RawImage::decompress() {
  std::string_view frame(body_, len_);
  std::uint64_t n = zstd_content_size(frame, path_);
  void *m = n ? ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
              : MAP_FAILED;
  if (m == MAP_FAILED)
    fail("the compressed body states " + std::to_string(n) + " bytes, more than can be mapped");
  region_ = static_cast<const char *>(m);
  region_len_ = n;
  zstd_decompress(frame, static_cast<char *>(m), n, path_);
  ::munmap(const_cast<char *>(map_), map_len_);
  map_ = nullptr;
  body_ = region_;
  len_ = n;
}

void RawImage::fail(const std::string &why) const {
  throw Error(path_ + ": corrupt checkpoint: " + why);
}

std::uint64_t RawImage::uint(const char *ctx) {
  if (off_ >= len_)
    fail(std::string("truncated ") + ctx);
  auto b = std::uint8_t(body_[off_]);
  if (b < 0x80) {
    ++off_;
    return b;
  }
  int n = b == 0xcc ? 1 : b == 0xcd ? 2 : b == 0xce ? 4 : b == 0xcf ? 8 : 0;
  if (!n || len_ - off_ < std::size_t(1 + n))
    fail(std::string("malformed ") + ctx);
  std::uint64_t v = load_be(body_ + off_ + 1, n);
  off_ += 1 + n;
  return v;
}

std::uint32_t RawImage::array(const char *ctx) {
  if (off_ >= len_)
    fail(std::string("truncated ") + ctx);
  auto b = std::uint8_t(body_[off_]);
  if ((b & 0xf0) == 0x90) {
    ++off_;
    return b & 0x0f;
  }
  int n = b == 0xdc ? 2 : b == 0xdd ? 4 : 0;
  if (!n || len_ - off_ < std::size_t(1 + n))
    fail(std::string("malformed ") + ctx);
  auto v = std::uint32_t(load_be(body_ + off_ + 1, n));
  off_ += 1 + n;
  return v;
}

void RawImage::skip(const char *ctx) {
  msgpack::null_visitor v;
  std::size_t off = off_;
  bool ok = false;
  try {
    ok = msgpack::parse(body_, len_, off, v);
  } catch (const std::exception &) {
  }
  if (!ok)
    fail(std::string("malformed ") + ctx);
  off_ = off;
}

bool RawImage::next(RawObject &o) {
  if (seen_ == object_count)
    return false;
  std::size_t passed = std::size_t(body_ - region_) + off_;
  if (drop_behind_ && passed - dropped_ >= (std::size_t(16) << 20)) {
    static const std::size_t page = std::size_t(::sysconf(_SC_PAGESIZE));
    std::size_t upto = passed & ~(page - 1); // whole pages only: the kernel rounds up
    ::madvise(const_cast<char *>(region_) + dropped_, upto - dropped_, MADV_DONTNEED);
    dropped_ = upto;
  }
  std::uint32_t len = array("object");
  std::uint64_t delta = uint("object id");
  if (len < 3 || delta == 0 || last_id_ + delta < last_id_)
    fail("object ids out of order");
  o.id = last_id_ += delta;
  std::uint64_t type = uint("object type");
  if (type >= types.size())
    fail("object #" + std::to_string(o.id) + " has an unknown type");
  o.type = std::uint32_t(type);
  o.count = uint("object count");
  std::uint64_t nf = types[type].fields.size();
  if (o.count == 0 || (nf && o.count > len) || len - 3 != o.count * nf)
    fail("object #" + std::to_string(o.id) + " has the wrong number of values");
  std::size_t at = off_;
  for (std::uint64_t k = 0; k < o.count * nf; ++k)
    skip("object value");
  o.values = std::string_view(body_ + at, off_ - at);
  if (++seen_ == object_count)
    read_tail();
  return true;
}

void RawImage::read_tail() {
  std::uint32_t n = array("freed ids");
  if (n > len_ - off_) // each id takes at least a byte
    fail("malformed freed ids");
  freed.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i)
    freed.push_back(uint("freed id"));
  info.prev_epoch = uint("previous epoch");
  if (array("statistics") != 5)
    fail("malformed statistics");
  info.stats.objects = uint("stats");
  info.stats.payload_bytes = uint("stats");
  info.stats.pause_us = uint("stats");
  info.stats.pages_touched = uint("stats");
  info.stats.dirty_pages = uint("stats");
  if (version >= 3)
    info.chain_id = uint("chain id");
  if (off_ != len_)
    fail("trailing bytes after the body");
}

} // namespace checksync::detail
