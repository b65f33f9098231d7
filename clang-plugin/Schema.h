//===- Schema.h - the schema the plugin hands to the pass ------*- C++ -*-===//
//
// Plain data, filled by SchemaBuilder from the AST and written into the IR as
// !checksync.types / !checksync.roots by SchemaPass (docs/compiler.md).
//
//===----------------------------------------------------------------------===//
#ifndef CHECKSYNC_PLUGIN_SCHEMA_H
#define CHECKSYNC_PLUGIN_SCHEMA_H

#include "llvm/ADT/StringSet.h"

#include <cstdint>
#include <string>
#include <vector>

namespace checksync::plugin {

/// One field of a persistent type, or the value of a root.
struct FieldSchema {
  std::string Name;    ///< field name, or the root's qualified name
  uint64_t Offset = 0; ///< bytes from the start of the record (0 for roots)
  std::string Kind;    ///< "int", "uint", "float", "bytes", "ref", "record",
                       ///< "codec"
  uint64_t ElemSize = 0;
  uint64_t Count = 1;  ///< product of array extents
  std::string Target;  ///< type key for "ref" and "record", the type's
                       ///< spelling for "codec", else empty
  std::string RenamedFrom; ///< former names, ',' separated
                           ///< ([[checksync::renamed_from("old")]])
  std::string Default;     ///< the default member initialiser's value, if it
                           ///< is a constant (abi.h: default_value)
  uint64_t Flags = 0;      ///< CHECKSYNC_FIELD_* (allow_lossy, has an initialiser)
  std::string Codec;   ///< mangled name of the instantiated
                       ///< checksync::codec::entry<T> (or transient_entry<T>
                       ///< for inits), else empty
};

/// A vtable pointer of a complete object: store
/// `@VTable + ByteOffset` at `Offset`.
struct VPtrSchema {
  uint64_t Offset = 0;
  std::string VTable; ///< mangled vtable symbol (_ZTV...)
  uint64_t ByteOffset = 0;
};

struct TypeSchema {
  std::string Key;  ///< typeid(T).name()
  std::string Name; ///< qualified C++ name with template arguments
  std::string RenamedFrom; ///< former qualified names, ',' separated
  uint64_t Size = 0, Align = 0;
  std::vector<FieldSchema> Fields; ///< sorted by offset, transient omitted;
                                   ///< persistent bases are "record" fields
  std::vector<FieldSchema> Inits;  ///< transient fields that need construction
  std::vector<VPtrSchema> VPtrs;   ///< every vptr of a complete object
};

struct RootSchema {
  std::string Symbol; ///< the IR name of the global variable
  FieldSchema Value;
};

/// Everything one translation unit contributes.
struct Schema {
  std::vector<TypeSchema> Types;
  std::vector<RootSchema> Roots;
  llvm::StringSet<> TypeKeys, RootSymbols;

  void addType(TypeSchema T) {
    if (TypeKeys.insert(T.Key).second)
      Types.push_back(std::move(T));
  }
  void addRoot(RootSchema R) {
    if (RootSymbols.insert(R.Symbol).second)
      Roots.push_back(std::move(R));
  }
};

} // namespace checksync::plugin

#endif
