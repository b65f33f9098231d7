//===- NewRewriter.cpp - redirect `new T` of persistent types ------------===//
//
// `new T`, `new T{...}`, `new T(args)`, `new T[n]`, `::new T` and every
// new-expression inside templates (std::make_unique<T>) get their operator new
// replaced by a per-type function whose assembler label names the type:
// "checksync.new.<typeid(T).name()>". Nothing else about the expression
// changes: clang still computes the size (n * sizeof(T) for arrays), runs the
// constructors and, if one throws, calls the global operator delete (which
// the runtime replaces). The function is noexcept, malloc-like, non-null and
// alloc_size(1), so the optimiser keeps what it knew about ::operator new and
// emits no null check.
//
// std::make_shared<T>, std::allocate_shared<T> (and their _for_overwrite
// forms) of a persistent T are redirected to checksync::detail's functions of
// the same name and template arguments (checksync/shared.h), which make T with
// new: otherwise T would live inside the control block, untracked.
//
//===----------------------------------------------------------------------===//
#include "NewRewriter.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/Attr.h"
#include "clang/AST/DeclCXX.h"
#include "clang/AST/DeclTemplate.h"
#include "clang/Basic/Diagnostic.h"
#include "clang/Basic/SourceManager.h"
#include "clang/Sema/EnterExpressionEvaluationContext.h"
#include "clang/Sema/Sema.h"
#include "llvm/ADT/StringSwitch.h"

using namespace clang;

namespace checksync::plugin {

NewRewriter::NewRewriter(ASTContext &Ctx, Namer &N)
    : Ctx(Ctx), Diags(Ctx.getDiagnostics()), N(N) {}

FunctionDecl *NewRewriter::allocatorFor(QualType T, QualType AlignTy) {
  T = T.getCanonicalType().getUnqualifiedType();
  FunctionDecl *&FD = Allocators[T.getTypePtr()];
  if (FD)
    return FD;

  std::string Key = N.typeKey(T);
  QualType SizeTy = Ctx.getSizeType();
  FunctionProtoType::ExtProtoInfo EPI;
  EPI.ExceptionSpec.Type = EST_BasicNoexcept;
  // Over-aligned types: clang passes std::align_val_t as well. The runtime
  // takes the alignment from the type descriptor; the pass drops the argument.
  SmallVector<QualType, 2> ParamTys{SizeTy};
  if (!AlignTy.isNull())
    ParamTys.push_back(AlignTy);
  QualType FnTy = Ctx.getFunctionType(Ctx.VoidPtrTy, ParamTys, EPI);

  FD = FunctionDecl::Create(
      Ctx, Ctx.getTranslationUnitDecl(), SourceLocation(), SourceLocation(),
      DeclarationName(&Ctx.Idents.get("__checksync_new_" + Key)), FnTy,
      Ctx.getTrivialTypeSourceInfo(FnTy), SC_Extern,
      /*UsesFPIntrin=*/false, /*isInlineSpecified=*/false,
      /*hasWrittenPrototype=*/true);
  auto *Size = ParmVarDecl::Create(
      Ctx, FD, SourceLocation(), SourceLocation(), &Ctx.Idents.get("size"),
      SizeTy, Ctx.getTrivialTypeSourceInfo(SizeTy), SC_None, nullptr);
  Size->setScopeInfo(0, 0);
  SmallVector<ParmVarDecl *, 2> Params{Size};
  if (!AlignTy.isNull()) {
    auto *Align = ParmVarDecl::Create(
        Ctx, FD, SourceLocation(), SourceLocation(), &Ctx.Idents.get("align"),
        AlignTy, Ctx.getTrivialTypeSourceInfo(AlignTy), SC_None, nullptr);
    Align->setScopeInfo(0, 1);
    Params.push_back(Align);
  }
  FD->setParams(Params);
  FD->setImplicit();
  FD->addAttr(AsmLabelAttr::CreateImplicit(Ctx, "checksync.new." + Key,
                                           /*IsLiteralLabel=*/true));
  FD->addAttr(RestrictAttr::CreateImplicit(Ctx));
  FD->addAttr(ReturnsNonNullAttr::CreateImplicit(Ctx));
  FD->addAttr(AllocSizeAttr::CreateImplicit(Ctx, ParamIdx(1, FD), ParamIdx()));
  return FD;
}

void NewRewriter::rewrite(CXXNewExpr *E) {
  if (E->isInstantiationDependent() || E->isTypeDependent() ||
      E->getAllocatedType()->isDependentType())
    return;
  QualType Elem = Ctx.getBaseElementType(E->getAllocatedType());
  const CXXRecordDecl *RD = persistentRecord(Elem);
  if (!RD || !E->getOperatorNew())
    return;
  if (const auto *L = E->getOperatorNew()->getAttr<AsmLabelAttr>())
    if (llvm::StringRef(L->getLabel()).starts_with("checksync.new."))
      return; // already rewritten (the same expression seen twice)

  std::string Name = N.typeName(Elem);
  SourceLocation Loc = E->getBeginLoc();
  if (E->getNumPlacementArgs() > 0) {
    // The standard library constructs values in storage it owns
    // (std::construct_at for containers, make_shared's control block):
    // such objects are encoded inside their owner, or make_shared is
    // reported at the call.
    const SourceManager &SM = Ctx.getSourceManager();
    if (SM.isInSystemHeader(SM.getExpansionLoc(Loc)))
      return;
    reportError(Diags, Loc,
                "placement new of persistent type '" + Name +
                    "' is not tracked; allocate with plain new");
    return;
  }
  if (isa<CXXMethodDecl>(E->getOperatorNew())) {
    reportError(Diags, Loc,
                "persistent type '" + Name +
                    "' declares its own operator new, which CheckSync cannot "
                    "track; remove it and allocate with plain new");
    return;
  }
  if (E->isArray() &&
      (E->doesUsualArrayDeleteWantSize() || Elem.isDestructedType())) {
    reportError(Diags, Loc,
                "not supported yet: new[] of persistent type '" + Name +
                    "' needs an array cookie because the type has a "
                    "non-trivial destructor; allocate the elements one by "
                    "one or make the destructor trivial");
    return;
  }
  // Whether clang passes the alignment depends only on the type, so one
  // allocator per type has one signature.
  QualType AlignTy;
  if (E->passAlignment() && E->getOperatorNew()->getNumParams() >= 2)
    AlignTy = E->getOperatorNew()->getParamDecl(1)->getType();
  E->setOperatorNew(allocatorFor(Elem, AlignTy));
}

/// The function template checksync::detail::<Name> (checksync/shared.h).
FunctionTemplateDecl *NewRewriter::trackedMaker(llvm::StringRef Name) {
  auto find = [&](DeclContext *DC, llvm::StringRef N) -> NamedDecl * {
    for (NamedDecl *D : DC->lookup(&Ctx.Idents.get(N)))
      return D;
    return nullptr;
  };
  auto *CS = dyn_cast_or_null<NamespaceDecl>(find(Ctx.getTranslationUnitDecl(), "checksync"));
  auto *Detail = CS ? dyn_cast_or_null<NamespaceDecl>(find(CS, "detail")) : nullptr;
  return Detail ? dyn_cast_or_null<FunctionTemplateDecl>(find(Detail, Name)) : nullptr;
}

/// Points the call at checksync::detail::<same name> with the same template
/// arguments, whose parameters are those of the std function; false if that
/// cannot be done (the header is missing, or the signatures differ).
bool NewRewriter::redirect(CallExpr *E, const FunctionDecl *Std, llvm::StringRef Fn) {
  FunctionTemplateDecl *FTD = SemaRef ? trackedMaker(Fn) : nullptr;
  const TemplateArgumentList *Args = Std->getTemplateSpecializationArgs();
  if (!FTD || !Args)
    return false;
  // The same template head (libc++'s make_shared has another shape).
  const TemplateParameterList *Mine = FTD->getTemplateParameters();
  const TemplateParameterList *Theirs = Std->getPrimaryTemplate()->getTemplateParameters();
  if (Mine->size() != Theirs->size() || Args->size() != Mine->size())
    return false;
  for (unsigned I = 0; I < Mine->size(); ++I)
    if (Mine->getParam(I)->getKind() != Theirs->getParam(I)->getKind() ||
        Mine->getParam(I)->isTemplateParameterPack() !=
            Theirs->getParam(I)->isTemplateParameterPack())
      return false;
  Sema &S = *SemaRef;
  SourceLocation Loc = E->getBeginLoc();
  EnterExpressionEvaluationContext Evaluated(
      S, Sema::ExpressionEvaluationContext::PotentiallyEvaluated);
  void *InsertPos = nullptr;
  FunctionDecl *Spec = FTD->findSpecialization(Args->asArray(), InsertPos);
  if (!Spec)
    Spec = S.InstantiateFunctionDeclaration(FTD, Args, Loc);
  if (!Spec || Spec->isInvalidDecl())
    return false;
  // Same parameters and result: the call's arguments are already converted.
  const auto *Want = Std->getType()->castAs<FunctionProtoType>();
  const auto *Got = Spec->getType()->castAs<FunctionProtoType>();
  if (!Ctx.hasSameType(Want->getReturnType(), Got->getReturnType()) ||
      Want->getNumParams() != Got->getNumParams())
    return false;
  for (unsigned I = 0; I < Want->getNumParams(); ++I)
    if (!Ctx.hasSameType(Want->getParamType(I), Got->getParamType(I)))
      return false;
  S.MarkFunctionReferenced(Loc, Spec); // instantiated and emitted
  auto *Ref = DeclRefExpr::Create(Ctx, NestedNameSpecifierLoc(), SourceLocation(), Spec,
                                  /*RefersToEnclosingVariableOrCapture=*/false, Loc,
                                  Spec->getType(), VK_LValue);
  E->setCallee(ImplicitCastExpr::Create(Ctx, Ctx.getPointerType(Spec->getType()),
                                        CK_FunctionToPointerDecay, Ref, nullptr, VK_PRValue,
                                        FPOptionsOverride()));
  return true;
}

void NewRewriter::checkCall(CallExpr *E) {
  if (E->isTypeDependent() || E->isValueDependent())
    return;
  const FunctionDecl *FD = E->getDirectCallee();
  if (!FD || !FD->getIdentifier() || !FD->isInStdNamespace() ||
      !FD->getPrimaryTemplate())
    return;
  llvm::StringRef Fn = FD->getName();
  if (!llvm::StringSwitch<bool>(Fn)
           .Cases("make_shared", "allocate_shared",
                  "make_shared_for_overwrite",
                  "allocate_shared_for_overwrite", true)
           .Default(false))
    return;
  const TemplateArgumentList *Args = FD->getTemplateSpecializationArgs();
  if (!Args || Args->size() == 0 ||
      Args->get(0).getKind() != TemplateArgument::Type)
    return;
  QualType Made = Args->get(0).getAsType();
  QualType T = Ctx.getBaseElementType(Made);
  if (!persistentRecord(T))
    return;
  // The library's own forwarding calls (make_shared -> allocate_shared).
  SourceLocation Loc = E->getBeginLoc();
  if (Ctx.getSourceManager().isInSystemHeader(
          Ctx.getSourceManager().getExpansionLoc(Loc)))
    return;
  if (!Reported.insert(E).second)
    return;
  std::string Name = N.typeName(T);
  if (!Made->isArrayType() && redirect(E, FD, Fn))
    return; // now checksync::detail::<Fn>: T made with new, tracked
  reportError(Diags, Loc,
              "std::" + Fn.str() + "<" + N.typeName(Made) + "> places '" + Name +
                  "' inside the shared_ptr control block, where CheckSync "
                  "cannot track it" +
                  (Made->isArrayType() ? "; arrays of persistent objects cannot be shared: "
                                         "hold a std::vector of std::shared_ptr<" +
                                             Name + ">"
                                       : "; include <checksync/checksync.h> first, or use "
                                         "std::shared_ptr<" +
                                             Name + ">(new " + Name + "(...))"));
}

} // namespace checksync::plugin
