// libFuzzer target: the wire protocol's frame parser and message decoders
// (rt/wire.cpp) on arbitrary bytes. Every input must end in a clean result:
// a parsed frame, "need more", or a rejection; decoders throw Error only.
#include "schema/types.h"
#include "ha/wire.h"

#include <cstddef>
#include <cstdint>
#include <string>

using namespace checksync::detail;
namespace w = checksync::detail::wire;

namespace {
void decode_all(const std::string &p) {
  std::string_view data;
  try { w::decode_challenge(p); } catch (const Error &) {}
  try { w::decode_auth(p); } catch (const Error &) {}
  try { w::decode_welcome(p); } catch (const Error &) {}
  try { w::decode_ack(p); } catch (const Error &) {}
  try { w::decode_need_full(p); } catch (const Error &) {}
  try { w::decode_error(p); } catch (const Error &) {}
  try { w::decode_checkpoint(p); } catch (const Error &) {}
  try { w::decode_chunk(p, data); } catch (const Error &) {}
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  const char *p = reinterpret_cast<const char *>(data);
  // As a stream of frames.
  std::size_t off = 0;
  for (;;) {
    w::Frame f;
    std::size_t used = 0;
    std::string err;
    if (w::parse_frame(p + off, size - off, f, used, err) != w::Parse::Ok)
      break;
    decode_all(f.payload);
    off += used;
  }
  // As a payload inside a valid frame (past the checksum).
  std::string framed = w::encode_frame(w::Type::Auth, std::string_view(p, size));
  w::Frame f;
  std::size_t used = 0;
  std::string err;
  if (w::parse_frame(framed.data(), framed.size(), f, used, err) != w::Parse::Ok)
    __builtin_trap(); // a frame we made must parse
  decode_all(f.payload);
  return 0;
}
