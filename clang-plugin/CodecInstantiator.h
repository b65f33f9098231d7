//===- CodecInstantiator.h - instantiate checksync::codec entries -*- C++ -*-//
#ifndef CHECKSYNC_PLUGIN_CODECINSTANTIATOR_H
#define CHECKSYNC_PLUGIN_CODECINSTANTIATOR_H

#include "Markers.h"
#include "Schema.h"

#include "clang/AST/Type.h"
#include "llvm/ADT/DenseMap.h"

#include <string>
#include <vector>

namespace clang {
class Sema;
class VarTemplateDecl;
} // namespace clang

namespace checksync::plugin {

/// Instantiates `checksync::codec::entry<T>` (library-typed fields and roots)
/// and `checksync::codec::transient_entry<T>` (transient fields that need
/// construction) from <checksync/codec.h>, once per type and TU, so that
/// CodeGen emits them as linkonce_odr constants the pass can reference.
class CodecInstantiator {
public:
  CodecInstantiator(clang::ASTContext &Ctx, Namer &N);

  void setSema(clang::Sema &S) { SemaRef = &S; }
  void clearSema() { SemaRef = nullptr; }

  /// The mangled name of the entry for \p T (canonical, cv-stripped). If the
  /// header has not been seen yet, returns a placeholder that finish()
  /// replaces. Returns "" after reporting an error.
  std::string entryFor(clang::QualType T, bool Transient,
                       clang::SourceLocation Loc);

  /// End of the translation unit: instantiates the deferred entries (or
  /// reports that <checksync/checksync.h> is missing) and replaces the
  /// placeholders in \p S.
  void finish(Schema &S);

private:
  clang::VarTemplateDecl *lookup(bool Transient);
  std::string instantiate(clang::VarTemplateDecl *VTD, clang::QualType T,
                          clang::SourceLocation Loc);

  struct Deferred {
    clang::QualType T;
    bool Transient;
    clang::SourceLocation Loc;
    std::string Symbol; ///< filled by finish()
  };

  clang::ASTContext &Ctx;
  Namer &N;
  clang::Sema *SemaRef = nullptr;
  llvm::DenseMap<std::pair<const clang::Type *, unsigned>, std::string> Done;
  std::vector<Deferred> Pending;
};

} // namespace checksync::plugin

#endif
