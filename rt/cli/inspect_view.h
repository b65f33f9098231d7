// inspect_view.h - what `checksync-rt inspect` shows of a decoded checkpoint,
// shared by its text and JSON renderings (inspect.cpp, inspect_json.cpp).
#ifndef CHECKSYNC_CLI_INSPECT_VIEW_H
#define CHECKSYNC_CLI_INSPECT_VIEW_H

#include "format/format.h"
#include "store/store.h"

#include <string>
#include <vector>

namespace checksync::cli {

struct TypeCount {
  std::uint64_t objects = 0, bytes = 0;
};

struct InspectView {
  std::string path, note;
  std::vector<detail::StoredCheckpoint> stored; // a directory's files
  const detail::Image *img = nullptr;
  std::vector<const detail::Image *> files; // what was read: the base and its deltas
  std::vector<TypeCount> counts;            // per type: objects written
  std::uint64_t written = 0, written_bytes = 0, garbage = 0, garbage_bytes = 0;
  bool objects = false; // every object, field by field
};

// Bytes that are text: valid UTF-8 without control characters, then only
// NULs (a char[N] holding a C string). Sets `text` to what comes before them.
bool bytes_as_text(const char *p, std::size_t n, std::string &text);
bool valid_utf8(const char *p, std::size_t n);
std::string time_text(std::uint64_t unix_ms); // ISO 8601, UTC
std::string hex_text(const char *p, std::size_t n); // lower-case, two digits a byte

// The whole view as one JSON document (nlohmann-json). Numbers are exact
// (64-bit integers; doubles shortest round-trip; a float as the shortest
// decimal that reads back as the same float); NaN and infinities, which JSON
// lacks, are the strings "NaN", "Infinity", "-Infinity"; strings that are not
// UTF-8 and bytes that are not text are {"hex": "..."}; refs are
// {"ref": id} or {"ref": id, "offset": n}; maps of library values are arrays
// of [key, value] pairs.
std::string inspect_json(const InspectView &v);

// The object graph in Graphviz dot: roots, then objects breadth-first from
// them (at most max_nodes), refs as edges labelled with the field.
std::string inspect_dot(const InspectView &v, std::size_t max_nodes);

} // namespace checksync::cli

#endif
