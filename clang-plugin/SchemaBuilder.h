//===- SchemaBuilder.h - validate persistent records and roots -*- C++ -*-===//
#ifndef CHECKSYNC_PLUGIN_SCHEMABUILDER_H
#define CHECKSYNC_PLUGIN_SCHEMABUILDER_H

#include "CodecInstantiator.h"
#include "Markers.h"
#include "Schema.h"

#include "clang/AST/DeclCXX.h"

#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>
#include <vector>

namespace clang {
class Sema;
} // namespace clang

namespace checksync::plugin {

/// Checks [[checksync::persistent]] records and [[checksync::root]] variables
/// against the supported field kinds, reports every violation as an error,
/// and records the layout of the valid ones in a Schema.
/// The hint for a field whose type cannot be checkpointed. Marking it
/// transient is right only for a cache (or a resource), and the text says
/// what that costs: following a hint must never lose state silently.
inline constexpr llvm::StringLiteral CacheOnlyHint =
    "if the field only caches what the program can rebuild, mark it "
    "[[checksync::transient]]: its contents will not survive a resume";

class SchemaBuilder {
public:
  SchemaBuilder(clang::ASTContext &Ctx, Namer &N, Schema &S,
                CodecInstantiator &Codecs);

  void setSema(clang::Sema &S) { SemaRef = &S; }
  void clearSema() { SemaRef = nullptr; }

  /// Called for every completed record definition (persistent or not: a
  /// transient field in a non-persistent record is an error).
  void handleRecord(const clang::CXXRecordDecl *RD);

  /// Called for every variable; acts on root definitions.
  void handleVar(clang::VarDecl *VD);

  /// End of the translation unit: checks types that were only
  /// forward-declared when a persistent record or root used them.
  void finish();

  struct Problem {
    std::string Why;
    std::string Hint; ///< what to do instead (for fields)
  };
  /// A record type that must turn out persistent by the end of the TU.
  struct PendingType {
    clang::QualType Type;
    bool ByValue; ///< held by value (in a container), not through a pointer
  };
  struct Classified {
    std::optional<FieldSchema> Field; ///< name and offset left empty
    Problem P;
    std::vector<PendingType> Pending;
    clang::QualType CodecType; ///< the library type, for "codec" fields
  };

private:

  Classified classify(clang::QualType T);
  Classified classifyBuiltin(const clang::BuiltinType *BT, uint64_t Bytes);
  Classified classifyPointer(clang::QualType Pointee);
  Classified classifyRecord(clang::QualType C, uint64_t Bytes);
  Classified classifyUnion(clang::QualType C, uint64_t Bytes);
  std::optional<FieldSchema> fieldFor(clang::QualType T,
                                      clang::SourceLocation Loc,
                                      const std::string &Subject, bool IsRoot);

  // LibraryTypes.cpp
  class LibraryArgs;
  std::optional<Problem> checkLibrary(clang::QualType C,
                                      std::vector<PendingType> &Pending);
  std::optional<std::optional<Problem>> checkContainer(const std::string &Name,
                                                       const LibraryArgs &A);
  std::optional<Problem> checkOwner(const std::string &Name, const LibraryArgs &A);
  std::optional<Problem> checkElement(clang::QualType E,
                                      const std::string &Outer,
                                      std::vector<PendingType> &Pending);
  std::optional<Problem> checkPointee(clang::QualType P,
                                      const std::string &What,
                                      std::vector<PendingType> &Pending);

  bool handleBases(const clang::CXXRecordDecl *RD, const std::string &Name,
                   TypeSchema &T);
  bool handleTransient(const clang::FieldDecl *FD, const std::string &Name,
                       uint64_t Offset, TypeSchema &T);
  void addVPtrs(const clang::CXXRecordDecl *RD, TypeSchema &T);

  struct PendingRef {
    PendingType P;
    clang::SourceLocation Loc;
    std::string Subject, Spelled;
    bool IsRoot;
  };
  std::vector<PendingRef> Pending;

  /// Fields with a default member initialiser (parsed only after the
  /// outermost class is complete): their values are evaluated in finish().
  struct PendingDefault {
    std::string TypeKey, Field;
    const clang::FieldDecl *FD;
  };
  std::vector<PendingDefault> Defaults;
  /// The value of \p FD's default member initialiser as abi.h's
  /// default_value (setting CHECKSYNC_FIELD_DEFAULT_CONSTANT in \p F), or ""
  /// if it is not a constant the runtime can store.
  std::string defaultValue(const clang::FieldDecl *FD, FieldSchema &F);

  clang::ASTContext &Ctx;
  clang::DiagnosticsEngine &Diags;
  Namer &N;
  Schema &S;
  CodecInstantiator &Codecs;
  clang::Sema *SemaRef = nullptr;
};

} // namespace checksync::plugin

#endif
