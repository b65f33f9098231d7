// libFuzzer target: the checkpoint decoder (rt/format.cpp). The input is a
// checkpoint body; the fuzzer wraps it in a valid envelope (magic, version,
// length, checksum) so mutations reach the msgpack structure and the
// validation against the program's schema (the unit-test types). Every input
// must decode cleanly or be rejected with an Error.
#include "format/format.h"
#include "heap/marker.h"
#include "test_types.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace checksync::detail;

namespace {
std::string envelope(const char *body, std::size_t n) {
  std::string s(kHeaderBytes, '\0');
  std::memcpy(s.data(), kFileMagic, 8);
  std::uint32_t v = kFormatVersion, zero = 0;
  std::memcpy(s.data() + 8, &v, 4);
  std::memcpy(s.data() + 12, &zero, 4);
  s.append(body, n);
  std::uint64_t len = n, sum = XXH3_64bits(s.data(), s.size());
  s.append(reinterpret_cast<const char *>(&len), 8);
  s.append(reinterpret_cast<const char *>(&sum), 8);
  return s;
}
} // namespace

// CHECKSYNC_FUZZ_SEED=FILE: write the body of a valid checkpoint (a small
// graph of the test types) there, as a seed corpus entry.
extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  auto &s = cstest::registered();
  if (const char *seed = std::getenv("CHECKSYNC_FUZZ_SEED")) {
    std::vector<cstest::Node *> nodes;
    for (int i = 0; i < 8; ++i) {
      nodes.push_back(cstest::new_node(i * 1000 - 3));
      if (i)
        nodes[i - 1]->next = nodes[i];
      nodes[i]->other = nodes[i / 2];
    }
    cstest::root_node = nodes[0];
    ImageInfo info;
    info.epoch = 2;
    std::string img = encode_full(info, s.types, s.roots, mark_from_roots(s.types, s.roots, 99));
    std::FILE *f = std::fopen(seed, "wb");
    if (f) {
      std::fwrite(img.data() + kHeaderBytes, 1, img.size() - kHeaderBytes - kTrailerBytes, f);
      std::fclose(f);
    }
    cstest::root_node = nullptr;
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  std::string bytes = envelope(reinterpret_cast<const char *>(data), size);
  try {
    auto img = decode_image(bytes, "fuzz");
  } catch (const Error &) {
  }
  return 0;
}
