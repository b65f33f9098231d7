//===- DefaultValues.cpp - default member initialisers, as descriptor bytes -===//
//
// A field a resume adds takes its default member initialiser's value when
// the plugin can evaluate it here, at compile time (docs/evolution.md): the
// field's bytes for arithmetic, enum, pointer and array fields, the
// characters of a string literal for a std::string. Nothing runs at resume.
//
//===----------------------------------------------------------------------===//
#include "SchemaBuilder.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/ExprCXX.h"
#include "clang/Sema/Sema.h"

#include <optional>

using namespace clang;

namespace checksync::plugin {
namespace {

/// Appends \p V's bytes (little-endian, \p ElemSize per element, arrays
/// flattened) to \p Out; false if a value is not an integer, a float or a
/// null pointer.
bool appendBytes(const clang::APValue &V, uint64_t ElemSize, std::string &Out) {
  auto put = [&](const llvm::APInt &Bits) {
    for (uint64_t I = 0; I < ElemSize; ++I)
      Out.push_back(char(Bits.extractBitsAsZExtValue(8, unsigned(I * 8))));
  };
  if (V.isInt()) {
    put(V.getInt().extOrTrunc(unsigned(ElemSize * 8)));
    return true;
  }
  if (V.isFloat()) {
    llvm::APInt Bits = V.getFloat().bitcastToAPInt();
    if (Bits.getBitWidth() != ElemSize * 8)
      return false;
    put(Bits);
    return true;
  }
  if (V.isLValue() && V.isNullPointer()) {
    Out.append(ElemSize, '\0');
    return true;
  }
  if (V.isArray()) {
    for (unsigned I = 0; I < V.getArraySize(); ++I)
      if (!appendBytes(I < V.getArrayInitializedElts() ? V.getArrayInitializedElt(I)
                                                       : V.getArrayFiller(),
                       ElemSize, Out))
        return false;
    return true;
  }
  return false;
}

/// `std::string s = "abc"`, `s{"abc"}`, `s = {}`: the characters, else none.
std::optional<std::string> stringLiteralInit(const Expr *E) {
  for (;;) {
    E = E->IgnoreParens();
    if (const auto *W = dyn_cast<ExprWithCleanups>(E))
      E = W->getSubExpr();
    else if (const auto *M = dyn_cast<MaterializeTemporaryExpr>(E))
      E = M->getSubExpr();
    else if (const auto *B = dyn_cast<CXXBindTemporaryExpr>(E))
      E = B->getSubExpr();
    else if (const auto *C = dyn_cast<CastExpr>(E))
      E = C->getSubExpr();
    else if (const auto *L = dyn_cast<InitListExpr>(E); L && L->getNumInits() == 1)
      E = L->getInit(0);
    else
      break;
  }
  const auto *CE = dyn_cast<CXXConstructExpr>(E);
  if (!CE)
    return std::nullopt;
  if (CE->getNumArgs() == 0 || isa<CXXDefaultArgExpr>(CE->getArg(0)))
    return CE->getConstructor()->isDefaultConstructor() ? std::optional<std::string>("")
                                                        : std::nullopt;
  for (unsigned I = 1; I < CE->getNumArgs(); ++I)
    if (!isa<CXXDefaultArgExpr>(CE->getArg(I)))
      return std::nullopt;
  const auto *SL = dyn_cast<StringLiteral>(CE->getArg(0)->IgnoreParenImpCasts());
  if (!SL || !(SL->isOrdinary() || SL->isUTF8()))
    return std::nullopt;
  llvm::StringRef Chars = SL->getString();
  return Chars.substr(0, Chars.find('\0')).str(); // basic_string(const char *)
}

} // namespace

std::string SchemaBuilder::defaultValue(const FieldDecl *FD, FieldSchema &F) {
  const auto *Parent = dyn_cast<CXXRecordDecl>(FD->getParent());
  if (!FD->getInClassInitializer() && SemaRef && Parent &&
      isTemplateInstantiation(Parent->getTemplateSpecializationKind())) {
    // A class template's initialiser is instantiated only where a constructor
    // uses it: instantiate it here, so every translation unit agrees.
    Sema::ContextRAII TUContext(*SemaRef, Ctx.getTranslationUnitDecl());
    (void)SemaRef->BuildCXXDefaultInitExpr(FD->getLocation(), const_cast<FieldDecl *>(FD));
  }
  const Expr *Init = FD->getInClassInitializer();
  if (!Init || Init->isValueDependent() || Init->isTypeDependent())
    return "";
  if (F.Kind == "codec") {
    std::optional<std::string> Chars;
    if (F.Target == "std::string" && F.Count == 1 && (Chars = stringLiteralInit(Init)))
      F.Flags |= CHECKSYNC_FIELD_DEFAULT_CONSTANT;
    return Chars.value_or("");
  }
  if (F.Kind != "int" && F.Kind != "uint" && F.Kind != "float" && F.Kind != "ref")
    return "";
  Expr::EvalResult R;
  std::string Out;
  if (!Init->EvaluateAsRValue(R, Ctx) || R.HasSideEffects || !appendBytes(R.Val, F.ElemSize, Out) ||
      Out.size() != F.ElemSize * F.Count)
    return "";
  F.Flags |= CHECKSYNC_FIELD_DEFAULT_CONSTANT;
  return Out;
}

} // namespace checksync::plugin
