// codec_rt.h - the runtime side of checksync/codec.h: the Writer that codecs
// encode into, the Value they decode from, and the restore context that
// resolves object ids while decoding.
#ifndef CHECKSYNC_RT_CODEC_RT_H
#define CHECKSYNC_RT_CODEC_RT_H

#include "heap/heap.h"
#include "format/out_buffer.h"
#include "schema/types.h"

#include <msgpack.hpp>

#include <memory>
#include <unordered_map>

namespace checksync::detail {
using Packer = msgpack::packer<OutBuffer>;
struct Image;
} // namespace checksync::detail

namespace checksync::codec {

class Writer {
public:
  detail::Packer &pk;
  const std::vector<detail::Type> &types;
  const std::unordered_map<std::string, std::uint32_t> &by_key;
  // Inside a library value refs are ext values, also in records it holds, so
  // reachability can find them without knowing the library type's layout.
  bool in_library = false;
};

// A msgpack::object seen through the codec API (pointer-interconvertible).
class Value {
public:
  msgpack::object o;
};
inline const Value &as_value(const msgpack::object &o) {
  return *reinterpret_cast<const Value *>(&o);
}

} // namespace checksync::codec

namespace checksync::detail {

// Decoding state of one restore (single-threaded: init()).
struct RestoreContext {
  const Image &img;
  const std::vector<Type> &types; // the program's
  const std::unordered_map<std::string, std::uint32_t> &by_key;
  // By program type index: for each of its fields, the index of the
  // checkpoint's field it takes its value from (-1: value-initialised); empty
  // when the checkpoint has no such type. A resume across builds (evolve.h).
  std::vector<std::vector<std::int64_t>> field_src{};
  // By program type index: the checkpoint's index of that type, or -1.
  std::vector<std::int64_t> ck_type{};
  std::vector<char *> addr{};         // by object index in img
  std::vector<std::uint64_t> bytes{}; // payload bytes by object index
  std::unordered_map<const void *, std::shared_ptr<void>> owners{};
  // Container nodes by the id they were encoded with (codec.h note_node);
  // node null: lost. `after`: the node is after(node), resolved at the end.
  struct Node {
    void *node;
    void *(*after)(void *);
    const void *kind; // the node type (codec_std.h node_notes::kind)
  };
  std::unordered_map<std::uint64_t, Node> nodes{};
  // Containers in node form decoded into temporaries (codec.h note_nested).
  struct Nested {
    const void *container;
    bool (*holds)(const void *);
    std::vector<std::uint64_t> ids;
  };
  std::vector<Nested> nested{};
  std::uint64_t copied_nodes = 0; // ids lost: their container was copied, not moved
  std::uint64_t node_events = 0; // nodes noted and iterators decoded so far
  // Lossy conversions (evolve.h): by program field name, the values that did
  // not fit and were clamped (or rounded).
  std::unordered_map<std::string, std::uint64_t> clamped{};
  void *address(std::uint64_t id, std::uint64_t off) const; // throws Error
};
extern thread_local RestoreContext *current_restore;

// Prepares raw storage for a value of type t: zero, transient fields
// constructed, vtable pointers set.
void setup_raw(const Type &t, char *dst);
// A field the checkpoint does not have, in storage setup_raw prepared: its
// default member initialiser's value when the plugin could evaluate it
// (CHECKSYNC_FIELD_DEFAULT_CONSTANT), else value-initialised (library values
// constructed, records set up field by field).
void value_init(const std::vector<Type> &types, const Field &f, char *dst);
// Decodes a field value into dst. `constructed`: dst holds live library values
// (a root) that must be destroyed first.
void store_value(RestoreContext &cx, const msgpack::object &v, const Field &f, char *dst,
                 bool constructed);

} // namespace checksync::detail

#endif
