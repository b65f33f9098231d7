//===- SchemaBuilder.h - validate persistent records and roots -*- C++ -*-===//
#ifndef CHECKSYNC_PLUGIN_SCHEMABUILDER_H
#define CHECKSYNC_PLUGIN_SCHEMABUILDER_H

#include "Markers.h"
#include "Schema.h"

#include "clang/AST/DeclCXX.h"

#include <optional>
#include <string>
#include <vector>

namespace checksync::plugin {

/// Checks [[checksync::persistent]] records and [[checksync::root]] variables
/// against the supported field kinds, reports every violation as an error,
/// and records the layout of the valid ones in a Schema.
class SchemaBuilder {
public:
  SchemaBuilder(clang::ASTContext &Ctx, Namer &N, Schema &S);

  /// Called for every completed record definition (persistent or not: a
  /// transient field in a non-persistent record is an error).
  void handleRecord(const clang::CXXRecordDecl *RD);

  /// Called for every variable; acts on root definitions.
  void handleVar(clang::VarDecl *VD);

  /// End of the translation unit: checks pointers to types that were only
  /// forward-declared when a persistent record or root used them.
  void finish();

private:
  struct Problem;
  struct Classified;
  Classified classify(clang::QualType T);
  std::optional<FieldSchema> fieldFor(clang::QualType T,
                                      clang::SourceLocation Loc,
                                      const std::string &Subject, bool IsRoot);
  bool needsConstruction(clang::QualType T);

  struct PendingRef {
    clang::QualType Pointee;
    clang::SourceLocation Loc;
    std::string Subject, Spelled;
    bool IsRoot;
  };
  std::vector<PendingRef> Pending;

  clang::ASTContext &Ctx;
  clang::DiagnosticsEngine &Diags;
  Namer &N;
  Schema &S;
};

} // namespace checksync::plugin

#endif
