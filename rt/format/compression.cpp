// compression.cpp - see compression.h.
#include "format/compression.h"

#include "schema/types.h"

#include <zstd.h>

#include <string>

namespace checksync::detail {

std::uint64_t zstd_content_size(std::string_view frame, const std::string &what) {
  unsigned long long n = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (n == ZSTD_CONTENTSIZE_ERROR)
    throw Error(what + ": corrupt checkpoint: the compressed body is not a zstd frame");
  if (n == ZSTD_CONTENTSIZE_UNKNOWN)
    throw Error(what + ": corrupt checkpoint: the compressed body does not state its size");
  return n;
}

void zstd_decompress(std::string_view frame, char *out, std::size_t n, const std::string &what) {
  std::size_t got = ZSTD_decompress(out, n, frame.data(), frame.size());
  if (ZSTD_isError(got))
    throw Error(what + ": corrupt checkpoint: compressed body: " + ZSTD_getErrorName(got));
  if (got != n)
    throw Error(what + ": corrupt checkpoint: compressed body is shorter than it states");
}

void zstd_decompress_append(std::string_view frame, std::string &out, const std::string &what) {
  std::uint64_t n = zstd_content_size(frame, what);
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> d(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!d)
    throw Error(what + ": zstd: out of memory");
  std::size_t start = out.size();
  // Reserve what a plausible ratio allows; beyond it, grow as content comes.
  out.reserve(start + std::min<std::uint64_t>(n, 64 * std::uint64_t(frame.size()) + (1 << 20)));
  ZSTD_inBuffer ib{frame.data(), frame.size(), 0};
  std::size_t chunk = ZSTD_DStreamOutSize();
  for (;;) {
    std::size_t at = out.size();
    if (at - start > n)
      break;
    out.resize(at + chunk);
    ZSTD_outBuffer ob{out.data() + at, chunk, 0};
    std::size_t left = ZSTD_decompressStream(d.get(), &ob, &ib);
    out.resize(at + ob.pos);
    if (ZSTD_isError(left))
      throw Error(what + ": corrupt checkpoint: compressed body: " + ZSTD_getErrorName(left));
    if (left == 0)
      break;
    if (ib.pos == ib.size && ob.pos < chunk)
      throw Error(what + ": corrupt checkpoint: compressed body is truncated");
  }
  if (out.size() - start != n || ib.pos != ib.size)
    throw Error(what + ": corrupt checkpoint: compressed body is not the size it states");
}

struct ZstdWriter::State {
  ZSTD_CCtx *cctx = ZSTD_createCCtx();
  std::string out = std::string(ZSTD_CStreamOutSize(), '\0');
  ~State() { ZSTD_freeCCtx(cctx); }
};

ZstdWriter::ZstdWriter(int level, std::uint64_t content_size, Sink sink)
    : s_(std::make_unique<State>()), sink_(std::move(sink)) {
  if (!s_->cctx)
    throw Error("zstd: out of memory");
  ZSTD_CCtx_setParameter(s_->cctx, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(s_->cctx, ZSTD_c_checksumFlag, 1);
  ZSTD_CCtx_setPledgedSrcSize(s_->cctx, content_size); // the size goes in the frame header
}

ZstdWriter::~ZstdWriter() = default;

void ZstdWriter::write(std::string_view in) { run(in, false); }
void ZstdWriter::finish() { run({}, true); }

void ZstdWriter::run(std::string_view in, bool end) {
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  for (;;) {
    ZSTD_outBuffer ob{s_->out.data(), s_->out.size(), 0};
    std::size_t left = ZSTD_compressStream2(s_->cctx, &ob, &ib, end ? ZSTD_e_end : ZSTD_e_continue);
    if (ZSTD_isError(left))
      throw Error(std::string("zstd: ") + ZSTD_getErrorName(left));
    if (ob.pos)
      sink_(std::string_view(s_->out.data(), ob.pos));
    if (end ? left == 0 : ib.pos == ib.size)
      return;
  }
}

} // namespace checksync::detail
