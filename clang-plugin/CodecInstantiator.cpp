//===- CodecInstantiator.cpp - instantiate checksync::codec entries ------===//
//
// The recipe verified on Clang 19 (docs/compiler.md, "Codec entries"):
//   * switch to the translation unit's context (Sema::ContextRAII) in a
//     potentially-evaluated expression context: a record completed inside a
//     template body would otherwise queue nothing;
//   * find (or create) the specialisation with the declaration form of
//     Sema::CheckVarTemplateId and add an implicit `used` BEFORE it is
//     instantiated (CodeGen decides once whether to emit it);
//   * instantiate it through the expression form of CheckVarTemplateId
//     (referencing the variable), which the declaration form does not do.
// User specialisations of checksync::codec::codec<T> are honoured because
// entry<T> takes the addresses of codec<T>'s members.
//
//===----------------------------------------------------------------------===//
#include "CodecInstantiator.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/Attr.h"
#include "clang/AST/DeclTemplate.h"
#include "clang/Sema/DeclSpec.h"
#include "clang/Sema/EnterExpressionEvaluationContext.h"
#include "clang/Sema/Sema.h"
#include "clang/Sema/Template.h"

using namespace clang;

namespace checksync::plugin {

static constexpr llvm::StringLiteral PlaceholderPrefix = "?checksync.pending.";

CodecInstantiator::CodecInstantiator(ASTContext &Ctx, Namer &N)
    : Ctx(Ctx), N(N) {}

VarTemplateDecl *CodecInstantiator::lookup(bool Transient) {
  auto find = [&](DeclContext *DC, llvm::StringRef Name) -> NamedDecl * {
    for (NamedDecl *D : DC->lookup(&Ctx.Idents.get(Name)))
      return D;
    return nullptr;
  };
  auto *CS = dyn_cast_or_null<NamespaceDecl>(
      find(Ctx.getTranslationUnitDecl(), "checksync"));
  auto *Codec = CS ? dyn_cast_or_null<NamespaceDecl>(find(CS, "codec"))
                   : nullptr;
  if (!Codec)
    return nullptr;
  return dyn_cast_or_null<VarTemplateDecl>(
      find(Codec, Transient ? "transient_entry" : "entry"));
}

std::string CodecInstantiator::instantiate(VarTemplateDecl *VTD, QualType T,
                                           SourceLocation Loc) {
  Sema &S = *SemaRef;
  Sema::ContextRAII TUContext(S, Ctx.getTranslationUnitDecl());
  EnterExpressionEvaluationContext Evaluated(
      S, Sema::ExpressionEvaluationContext::PotentiallyEvaluated);

  TemplateArgumentListInfo Args(Loc, Loc);
  Args.addArgument(TemplateArgumentLoc(TemplateArgument(T),
                                       Ctx.getTrivialTypeSourceInfo(T, Loc)));
  DeclResult Spec = S.CheckVarTemplateId(VTD, Loc, Loc, Args);
  if (Spec.isInvalid())
    return "";
  auto *VD = cast<VarDecl>(Spec.get());
  if (!VD->hasAttr<UsedAttr>())
    VD->addAttr(UsedAttr::CreateImplicit(Ctx));

  CXXScopeSpec SS;
  DeclarationNameInfo Name(VTD->getDeclName(), Loc);
  ExprResult Ref = S.CheckVarTemplateId(SS, Name, VTD, VTD, Loc, &Args);
  if (Ref.isInvalid())
    return "";
  return N.symbolName(VD);
}

std::string CodecInstantiator::entryFor(QualType T, bool Transient,
                                        SourceLocation Loc) {
  T = T.getCanonicalType().getUnqualifiedType();
  std::string &Sym = Done[{T.getTypePtr(), Transient ? 1u : 0u}];
  if (!Sym.empty())
    return Sym;
  if (VarTemplateDecl *VTD = SemaRef ? lookup(Transient) : nullptr) {
    Sym = instantiate(VTD, T, Loc);
    return Sym;
  }
  // <checksync/codec.h> may still come later in the TU.
  Sym = (PlaceholderPrefix + llvm::Twine(Pending.size())).str();
  Pending.push_back({T, Transient, Loc, ""});
  return Sym;
}

void CodecInstantiator::finish(Schema &S) {
  if (Pending.empty())
    return;
  bool Missing = false;
  for (Deferred &D : Pending) {
    VarTemplateDecl *VTD = SemaRef ? lookup(D.Transient) : nullptr;
    if (!VTD) {
      if (!Missing)
        reportError(Ctx.getDiagnostics(), D.Loc,
                    "type '" + N.librarySpelling(D.T) +
                        "' needs a codec from <checksync/checksync.h>; "
                        "include <checksync/checksync.h> before this "
                        "persistent type");
      Missing = true;
      continue;
    }
    D.Symbol = instantiate(VTD, D.T, D.Loc);
  }
  if (SemaRef && !Missing)
    SemaRef->PerformPendingInstantiations();

  auto patch = [&](FieldSchema &F) {
    llvm::StringRef C(F.Codec);
    if (!C.consume_front(PlaceholderPrefix))
      return;
    size_t I = 0;
    if (!C.getAsInteger(10, I) && I < Pending.size())
      F.Codec = Pending[I].Symbol;
  };
  for (TypeSchema &T : S.Types) {
    for (FieldSchema &F : T.Fields)
      patch(F);
    for (FieldSchema &F : T.Inits)
      patch(F);
  }
  for (RootSchema &R : S.Roots)
    patch(R.Value);
  Pending.clear();
}

} // namespace checksync::plugin
