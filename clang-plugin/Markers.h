//===- Markers.h - CheckSync attribute markers and shared helpers -*- C++ -*-//
//
// The attributes ([[checksync::persistent]], ::root, ::transient) attach an
// implicit AnnotateAttr to the declaration; these helpers find them again and
// provide what every part of the plugin needs: type keys, printable names and
// error reporting.
//
//===----------------------------------------------------------------------===//
#ifndef CHECKSYNC_PLUGIN_MARKERS_H
#define CHECKSYNC_PLUGIN_MARKERS_H

#include <checksync/abi.h>

#include "clang/AST/Decl.h"
#include "clang/AST/Mangle.h"
#include "clang/AST/Type.h"
#include "llvm/ADT/StringRef.h"

#include <memory>
#include <string>

namespace clang {
class ASTContext;
class DiagnosticsEngine;
} // namespace clang

namespace checksync::plugin {

inline constexpr llvm::StringLiteral PersistentMarker = "checksync.persistent";
inline constexpr llvm::StringLiteral RootMarker = "checksync.root";
inline constexpr llvm::StringLiteral TransientMarker = "checksync.transient";
/// [[checksync::allow_lossy]] on a field: a resume may narrow its values.
inline constexpr llvm::StringLiteral AllowLossyMarker = "checksync.allow_lossy";
/// Prefix of "checksync.renamed_from:<old name>" ([[checksync::renamed_from]]).
inline constexpr llvm::StringLiteral RenamedFromMarker = "checksync.renamed_from:";
/// Prefix of the implicit annotation on every checkpointed field of a
/// persistent record ("checksync.field:<type key>:<offset>"); the pass turns
/// the llvm.ptr.annotation calls clang emits for it into write barriers.
inline constexpr llvm::StringLiteral FieldMarkerPrefix = CHECKSYNC_FIELD_ANNOTATION_PREFIX;

/// True if \p D itself carries the marker annotation \p Marker.
bool hasMarker(const clang::Decl *D, llvm::StringRef Marker);

/// True if any redeclaration of \p RD (or, for a template specialisation, of
/// its primary template's pattern) is [[checksync::persistent]].
bool isPersistent(const clang::RecordDecl *RD);

/// Plain `char`, `wchar_t` and the charN_t types: code units, not numbers
/// ("uint" in the schema whatever the target's signedness of `char`).
bool isCharacterType(const clang::BuiltinType *BT);

/// The persistent record \p T names (cv and sugar ignored), or null.
const clang::CXXRecordDecl *persistentRecord(clang::QualType T);

/// "std::vector", "std::chrono::duration" (inline namespaces skipped) for a
/// declaration in namespace std, else "".
std::string stdName(const clang::NamedDecl *D);

/// Emits error \p Msg at \p Loc.
void reportError(clang::DiagnosticsEngine &Diags, clang::SourceLocation Loc,
                 llvm::StringRef Msg);

/// Per-TU naming helper: type keys (typeid(T).name()), printable type names
/// and mangled symbol names.
class Namer {
public:
  explicit Namer(clang::ASTContext &Ctx);
  ~Namer();

  /// typeid(T).name() for the canonical, unqualified \p T.
  std::string typeKey(clang::QualType T);
  /// Fully qualified name of \p T with template arguments.
  std::string typeName(clang::QualType T);
  /// \p T as the user wrote it (for messages).
  std::string spelled(clang::QualType T);
  /// The IR symbol name of a global variable.
  std::string symbolName(const clang::VarDecl *VD);
  /// The library type \p T spelled for humans: canonical, fully qualified,
  /// default template arguments dropped, std::string for basic_string<char>.
  std::string librarySpelling(clang::QualType T);
  /// The mangled name of \p RD's vtable (_ZTV...).
  std::string vtableName(const clang::CXXRecordDecl *RD);

private:
  clang::ASTContext &Ctx;
  std::unique_ptr<clang::MangleContext> Mangler;
};

} // namespace checksync::plugin

#endif
