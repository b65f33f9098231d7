// out_buffer.h - the output stream checkpoints are packed into. msgpack's
// packer writes every scalar as a 1-9 byte write(); msgpack::sbuffer turns
// each into a memcpy call. Here the common sizes are fixed-size copies the
// compiler inlines, which matters when a delta packs millions of scalars.
#ifndef CHECKSYNC_RT_OUT_BUFFER_H
#define CHECKSYNC_RT_OUT_BUFFER_H

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

namespace checksync::detail {

class OutBuffer {
public:
  // The bytes live in a std::string so that take() hands them over without a
  // copy: a copy doubled the peak memory of a multi-GB full checkpoint.
  explicit OutBuffer(std::size_t reserve = 4096) { s_.resize(std::max<std::size_t>(reserve, 64)); }
  OutBuffer(const OutBuffer &) = delete;
  OutBuffer &operator=(const OutBuffer &) = delete;

  void write(const char *p, std::size_t n) {
    if (n > s_.size() - size_)
      grow(n);
    char *d = s_.data() + size_;
    switch (n) {
    case 1: d[0] = p[0]; break;
    case 2: std::memcpy(d, p, 2); break;
    case 3: std::memcpy(d, p, 3); break;
    case 5: std::memcpy(d, p, 5); break;
    case 9: std::memcpy(d, p, 9); break;
    default: std::memcpy(d, p, n);
    }
    size_ += n;
  }
  const char *data() const { return s_.data(); }
  std::size_t size() const { return size_; }
  // Overwrites 4 bytes already written (a length known only afterwards).
  void patch_u32(std::size_t pos, std::uint32_t v) { std::memcpy(s_.data() + pos, &v, 4); }
  // Forgets the bytes but keeps the memory: a buffer reused for every
  // checkpoint is neither zero-filled nor page-faulted in again.
  void clear() { size_ = 0; }
  // The bytes written; the buffer is empty afterwards.
  std::string take() {
    s_.resize(size_); // shrinking keeps the allocation: no copy
    size_ = 0;
    return std::move(s_);
  }

private:
  void grow(std::size_t n) { s_.resize(std::max(s_.size() + s_.size() / 2, size_ + n)); }
  std::string s_;
  std::size_t size_ = 0;
};

} // namespace checksync::detail

#endif
