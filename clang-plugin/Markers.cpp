//===- Markers.cpp - CheckSync attribute markers and shared helpers ------===//
#include "Markers.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/Attr.h"
#include "clang/AST/DeclCXX.h"
#include "clang/AST/DeclTemplate.h"
#include "clang/Basic/Diagnostic.h"
#include "llvm/Support/raw_ostream.h"

using namespace clang;

namespace checksync::plugin {

bool hasMarker(const Decl *D, llvm::StringRef Marker) {
  for (const auto *A : D->specific_attrs<AnnotateAttr>())
    if (A->getAnnotation() == Marker)
      return true;
  return false;
}

bool isPersistent(const RecordDecl *RD) {
  if (!RD)
    return false;
  for (const TagDecl *R : RD->redecls())
    if (hasMarker(R, PersistentMarker))
      return true;
  if (const auto *Spec = dyn_cast<ClassTemplateSpecializationDecl>(RD)) {
    // Implicit instantiations take attributes from the pattern; be robust
    // against a marker only on the primary template or a partial
    // specialisation.
    auto Pattern = Spec->getSpecializedTemplateOrPartial();
    if (auto *CTD = Pattern.dyn_cast<ClassTemplateDecl *>())
      return isPersistent(CTD->getTemplatedDecl());
    if (auto *CTPSD =
            Pattern.dyn_cast<ClassTemplatePartialSpecializationDecl *>())
      return isPersistent(CTPSD);
  }
  return false;
}

const CXXRecordDecl *persistentRecord(QualType T) {
  if (T.isNull())
    return nullptr;
  const auto *RD = T.getCanonicalType()->getAsCXXRecordDecl();
  return RD && isPersistent(RD) ? RD : nullptr;
}

void reportError(DiagnosticsEngine &Diags, SourceLocation Loc,
                 llvm::StringRef Msg) {
  unsigned ID = Diags.getCustomDiagID(DiagnosticsEngine::Error, "%0");
  Diags.Report(Loc, ID) << Msg;
}

Namer::Namer(ASTContext &Ctx) : Ctx(Ctx), Mangler(Ctx.createMangleContext()) {}
Namer::~Namer() = default;

std::string Namer::typeKey(QualType T) {
  std::string S;
  llvm::raw_string_ostream OS(S);
  Mangler->mangleCXXRTTIName(T.getCanonicalType().getUnqualifiedType(), OS);
  OS.flush();
  llvm::StringRef Ref(S);
  Ref.consume_front("_ZTS");
  return Ref.str();
}

std::string Namer::typeName(QualType T) {
  PrintingPolicy Policy(Ctx.getLangOpts());
  Policy.SuppressTagKeyword = true;
  Policy.FullyQualifiedName = true;
  Policy.SuppressScope = false;
  Policy.PrintCanonicalTypes = true;
  Policy.SuppressUnwrittenScope = true;
  Policy.AnonymousTagLocations = false;
  return T.getCanonicalType().getUnqualifiedType().getAsString(Policy);
}

std::string Namer::spelled(QualType T) {
  PrintingPolicy Policy(Ctx.getLangOpts());
  Policy.SuppressTagKeyword = true;
  Policy.AnonymousTagLocations = false;
  return T.getAsString(Policy);
}

std::string Namer::symbolName(const VarDecl *VD) {
  if (!Mangler->shouldMangleDeclName(VD))
    return VD->getName().str();
  std::string S;
  llvm::raw_string_ostream OS(S);
  Mangler->mangleName(GlobalDecl(VD), OS);
  OS.flush();
  return S;
}

} // namespace checksync::plugin
