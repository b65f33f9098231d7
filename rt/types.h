// types.h - the runtime's resolved view of persistent types and roots.
// Built from the ABI descriptors (registry.cpp) or decoded from a checkpoint's
// schema (format.cpp); the two are compared field by field on resume.
#ifndef CHECKSYNC_RT_TYPES_H
#define CHECKSYNC_RT_TYPES_H

#include <checksync/abi.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace checksync::detail {

struct Field {
  std::string name;
  std::uint64_t offset = 0;
  std::uint32_t kind = 0; // checksync_field_kind
  std::uint32_t elem_size = 0;
  std::uint64_t count = 1;
  std::string target_key; // REF / RECORD only
  std::int64_t target = -1; // index of target_key in the owning type table
};

struct Type {
  std::string key;  // typeid(T).name()
  std::string name; // qualified C++ name
  std::uint64_t size = 0;
  std::uint64_t align = 1;
  std::vector<Field> fields;
  // Offsets of every pointer-to-persistent inside one element, nested records
  // and arrays flattened; filled by resolve_targets(). Marking walks only these.
  std::vector<std::uint64_t> ref_offsets;
};

struct Root {
  std::string name;
  void *address = nullptr; // null in a decoded checkpoint
  Field field;             // name == root name, offset 0
};

// Resolves target keys to indices in `types` and computes ref_offsets.
// Throws Error naming the type and field when a key is unknown.
void resolve_targets(std::vector<Type> &types, std::vector<Root> *roots);

const char *kind_name(std::uint32_t kind);
// "int64", "uint8[16]", "ref Node", "record Pair" ... for messages.
std::string describe_field(const Field &f, const std::vector<Type> &types);

// Every runtime error that reaches a user: one line, no stack trace.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

} // namespace checksync::detail

#endif
