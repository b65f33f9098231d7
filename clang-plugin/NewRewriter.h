//===- NewRewriter.h - redirect `new T` of persistent types ----*- C++ -*-===//
#ifndef CHECKSYNC_PLUGIN_NEWREWRITER_H
#define CHECKSYNC_PLUGIN_NEWREWRITER_H

#include "Markers.h"

#include "clang/AST/ExprCXX.h"
#include "clang/Sema/Sema.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

namespace checksync::plugin {

/// Points every new-expression that allocates a persistent type at a
/// plugin-declared allocation function
///   void *__checksync_new_<key>(std::size_t) noexcept
///       asm("checksync.new.<key>") __attribute__((malloc, returns_nonnull,
///                                                 alloc_size(1)));
/// which the pass lowers to checksync_rt_new(<type descriptor>, size).
class NewRewriter {
public:
  NewRewriter(clang::ASTContext &Ctx, Namer &N);

  /// Rewrites \p E if it allocates a persistent type; reports the
  /// allocations that cannot be tracked yet.
  void rewrite(clang::CXXNewExpr *E);

  /// Redirects std::make_shared / std::allocate_shared of a persistent type
  /// to checksync/shared.h (the object would otherwise live inside the
  /// control block, untracked); reports what cannot be redirected.
  void checkCall(clang::CallExpr *E);

  void setSema(clang::Sema &S) { SemaRef = &S; }
  void clearSema() { SemaRef = nullptr; }

private:
  clang::FunctionDecl *allocatorFor(clang::QualType T, clang::QualType AlignTy);
  clang::FunctionTemplateDecl *trackedMaker(llvm::StringRef Name);
  bool redirect(clang::CallExpr *E, const clang::FunctionDecl *Std, llvm::StringRef Fn);

  clang::Sema *SemaRef = nullptr;

  clang::ASTContext &Ctx;
  clang::DiagnosticsEngine &Diags;
  Namer &N;
  llvm::DenseMap<const clang::Type *, clang::FunctionDecl *> Allocators;
  llvm::DenseSet<const clang::CallExpr *> Reported;
};

} // namespace checksync::plugin

#endif
