//===- SchemaMetadata.h - the plugin's schema metadata, read ---*- C++ -*-===//
//
// What !checksync.types and !checksync.roots say (docs/compiler.md), read
// into plain structs for checksync-lower (LowerPass.cpp). Malformed metadata
// is a fatal error naming what is wrong.
//
//===----------------------------------------------------------------------===//
#ifndef CHECKSYNC_PASS_SCHEMAMETADATA_H
#define CHECKSYNC_PASS_SCHEMAMETADATA_H

#include "llvm/ADT/Twine.h"
#include "llvm/IR/GlobalValue.h"
#include "llvm/IR/Metadata.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace checksync::pass {

struct FieldInfo {
  std::string Name;
  uint64_t Offset = 0;
  unsigned Kind = 0;
  uint64_t ElemSize = 0;
  uint64_t Count = 0;
  std::string Target;
  std::string RenamedFrom; ///< former names, ',' separated ([[checksync::renamed_from]])
  std::string Codec; ///< symbol of the codec entry global, or empty
  std::string Default; ///< the default member initialiser's value (abi.h), or empty
  uint64_t Flags = 0;  ///< CHECKSYNC_FIELD_* flags
};

struct VPtrInfo {
  uint64_t Offset = 0;  ///< of the vptr inside the complete object
  std::string VTable;   ///< vtable symbol
  uint64_t ByteOffset = 0; ///< of the address point inside the vtable
};

struct TypeInfo {
  std::string Key, Name;
  std::string RenamedFrom; ///< former qualified names, ',' separated
  uint64_t Size = 0, Align = 0;
  std::vector<FieldInfo> Fields;
  std::vector<FieldInfo> Inits;
  std::vector<VPtrInfo> VPtrs;
};

struct RootInfo {
  llvm::GlobalValue *Address = nullptr;
  FieldInfo Field;
};

/// report_fatal_error prefixed "checksync-lower: ".
[[noreturn]] void fail(const llvm::Twine &Msg);

/// One !checksync.types entry.
TypeInfo readType(const llvm::MDNode *N);
/// One !checksync.roots entry; nothing if its global was deleted.
std::optional<RootInfo> readRoot(const llvm::MDNode *N);

} // namespace checksync::pass

#endif
