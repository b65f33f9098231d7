// build_id.cpp - see build_id.h.
#include "runtime/build_id.h"

#include <elf.h>
#include <errno.h>
#include <link.h>

#include <cstdint>
#include <cstdio>

namespace checksync::detail {
namespace {

// The NT_GNU_BUILD_ID note of the first object dl_iterate_phdr reports: the
// main executable.
int find_note(struct dl_phdr_info *info, size_t, void *out) {
  auto *hex = static_cast<std::string *>(out);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) &ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE)
      continue;
    const char *p = reinterpret_cast<const char *>(info->dlpi_addr + ph.p_vaddr);
    const char *end = p + ph.p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      const auto *n = reinterpret_cast<const ElfW(Nhdr) *>(p);
      const char *name = p + sizeof *n;
      const char *desc = name + ((n->n_namesz + 3) & ~3u);
      const char *next = desc + ((n->n_descsz + 3) & ~3u);
      if (next > end)
        break;
      if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && std::string(name, 3) == "GNU") {
        for (std::uint32_t k = 0; k < n->n_descsz && hex->size() < 16; ++k) {
          char b[3];
          std::snprintf(b, sizeof b, "%02x", static_cast<unsigned char>(desc[k]));
          *hex += b;
        }
        return 1;
      }
      p = next;
    }
  }
  return 1; // only the main executable
}

} // namespace

const std::string &build_id() {
  static const std::string id = [] {
    std::string hex;
    dl_iterate_phdr(find_note, &hex);
    return hex;
  }();
  return id;
}

std::string program_and_build() {
  std::string s = program_invocation_name;
  if (!build_id().empty())
    s += " (build " + build_id() + ")";
  return s;
}

} // namespace checksync::detail
