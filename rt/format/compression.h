// compression.h - zstd bodies. A compacted base is stored compressed
// (docs/format.md: version 4, flag kFlagZstd): one zstd frame with its
// content size and checksum in the frame header, level 1 by default (chosen
// by cost per MB, docs/performance.md). Deltas are never compressed: they are
// on the path to an acknowledgement.
#ifndef CHECKSYNC_RT_COMPRESSION_H
#define CHECKSYNC_RT_COMPRESSION_H

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace checksync::detail {

// The size a frame says it decompresses to. Throws Error if it does not say
// (not one of ours), or is not a zstd frame.
std::uint64_t zstd_content_size(std::string_view frame, const std::string &what);
// Decompresses exactly n bytes into out. Throws Error on a corrupt or short
// frame (zstd's own checksum is verified).
void zstd_decompress(std::string_view frame, char *out, std::size_t n, const std::string &what);

// Appends the frame's content to `out`, growing it only as content arrives
// (a forged size claim costs nothing); throws Error unless the content is
// exactly the size the frame states.
void zstd_decompress_append(std::string_view frame, std::string &out, const std::string &what);

// Streams a body through zstd: write() the input in pieces, then finish();
// compressed bytes go to `sink` as they are produced.
class ZstdWriter {
public:
  using Sink = std::function<void(std::string_view)>;
  ZstdWriter(int level, std::uint64_t content_size, Sink sink);
  ~ZstdWriter();
  ZstdWriter(const ZstdWriter &) = delete;
  ZstdWriter &operator=(const ZstdWriter &) = delete;
  void write(std::string_view in);
  void finish();

private:
  void run(std::string_view in, bool end);
  struct State;
  std::unique_ptr<State> s_;
  Sink sink_;
};

} // namespace checksync::detail

#endif
