// types.h - the runtime's resolved view of persistent types and roots.
// Built from the ABI descriptors (registry.cpp) or decoded from a checkpoint's
// schema (format.cpp); the two are compared field by field on resume.
#ifndef CHECKSYNC_RT_TYPES_H
#define CHECKSYNC_RT_TYPES_H

#include <checksync/abi.h>
#include <checksync/codec.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace checksync::detail {

struct Field {
  std::string name;
  std::uint64_t offset = 0;
  std::uint32_t kind = 0; // checksync_field_kind
  std::uint32_t elem_size = 0;
  std::uint64_t count = 1;
  std::string target_key; // REF / RECORD: type key; CODEC: the type's spelling
  std::int64_t target = -1; // REF / RECORD: index of target_key in the type table
  const codec::Entry *codec = nullptr; // CODEC fields and inits (null when decoded
                                       // from a file: files carry no code)
  // Former names ([[checksync::renamed_from]]); the program's only: files
  // carry the names they were written with.
  std::vector<std::string> renamed_from;
  // The program's only, like renamed_from: CHECKSYNC_FIELD_* flags and the
  // default member initialiser's value (abi.h default_value) for a field a
  // resume adds.
  std::uint64_t flags = 0;
  std::string default_value;
};

// A library value (or transient field needing construction) at an offset.
struct CodecSlot {
  std::uint64_t offset;
  const codec::Entry *codec;
};

struct Vptr {
  std::uint64_t offset;
  const void *value;
};

struct Type {
  std::string key;  // typeid(T).name()
  std::string name; // qualified C++ name
  std::uint64_t size = 0;
  std::uint64_t align = 1;
  std::vector<Field> fields;
  std::vector<Field> inits; // transient fields constructed on resume
  std::vector<Vptr> vptrs;  // the complete object's own vtable pointers
  std::vector<std::string> renamed_from; // former qualified names (the program's only)

  // Filled by resolve_targets(), nested records and arrays flattened:
  std::vector<std::uint64_t> ref_offsets; // every raw ref: marking walks these
  std::vector<CodecSlot> ref_codecs;      // library values that may hold refs
  std::vector<CodecSlot> init_slots;      // transient values to construct
  std::vector<Vptr> all_vptrs;            // members' vptrs, then own (bases override)
  bool needs_setup = false;               // init_slots or all_vptrs non-empty
  // Values of this type may hold a container in node form (codec.h
  // nodes_of): set by find_node_holders().
  bool holds_nodes = false;
};

struct Root {
  std::string name;
  void *address = nullptr; // null in a decoded checkpoint
  Field field;             // name == root name, offset 0
};

// Resolves target keys to indices in `types` and computes ref_offsets.
// Throws Error naming the type and field when a key is unknown.
void resolve_targets(std::vector<Type> &types, std::vector<Root> *roots);

// The former names of a field, from the ',' separated list in its descriptor.
std::vector<std::string> split_renamed_from(std::string_view list);

// Sets Type::holds_nodes (after resolve_targets, once the program's static
// initialisers have run: they register the node types iterators point into).
void find_node_holders(std::vector<Type> &types);

// A short name for a schema (types by key, their fields' names and shapes):
// 16 hex digits, equal for two builds whose persistent types agree. inspect
// shows it per epoch, so a resume across builds can be seen in a directory.
std::string schema_fingerprint(const std::vector<Type> &types);

const char *kind_name(std::uint32_t kind);
// "int64", "uint8[16]", "ref Node", "record Pair" ... for messages.
std::string describe_field(const Field &f, const std::vector<Type> &types);

// Every runtime error that reaches a user: one line, no stack trace.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

} // namespace checksync::detail

#endif
