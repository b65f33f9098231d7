// out_buffer.h - the output stream checkpoints are packed into. msgpack's
// packer writes every scalar as a 1-9 byte write(); msgpack::sbuffer turns
// each into a memcpy call. Here the common sizes are fixed-size copies the
// compiler inlines, which matters when a delta packs millions of scalars.
#ifndef CHECKSYNC_RT_OUT_BUFFER_H
#define CHECKSYNC_RT_OUT_BUFFER_H

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

namespace checksync::detail {

class OutBuffer {
public:
  explicit OutBuffer(std::size_t reserve = 4096)
      : cap_(std::max<std::size_t>(reserve, 64)),
        data_(static_cast<char *>(std::malloc(cap_))) {
    if (!data_)
      throw std::bad_alloc();
  }
  OutBuffer(const OutBuffer &) = delete;
  OutBuffer &operator=(const OutBuffer &) = delete;
  ~OutBuffer() { std::free(data_); }

  void write(const char *p, std::size_t n) {
    if (n > cap_ - size_)
      grow(n);
    char *d = data_ + size_;
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
  const char *data() const { return data_; }
  std::size_t size() const { return size_; }
  std::string str() const { return std::string(data_, size_); }

private:
  void grow(std::size_t n) {
    std::size_t cap = std::max(cap_ * 2, size_ + n);
    char *d = static_cast<char *>(std::realloc(data_, cap));
    if (!d)
      throw std::bad_alloc();
    data_ = d, cap_ = cap;
  }
  std::size_t size_ = 0, cap_;
  char *data_;
};

} // namespace checksync::detail

#endif
