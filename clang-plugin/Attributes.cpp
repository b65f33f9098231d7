//===- Attributes.cpp - the checksync:: C++11 attributes ------------------===//
//
// Defines [[checksync::persistent]], [[checksync::root]] and
// [[checksync::transient]]. Each checks where it appears
// (diagAppertainsToDecl) and marks the declaration with an implicit
// AnnotateAttr ("checksync.persistent", "checksync.root",
// "checksync.transient") that the rest of the plugin looks for. Rules that
// need a complete record (a transient field must belong to a persistent
// record) are checked by the AST consumer (SchemaBuilder.cpp).
//
//===----------------------------------------------------------------------===//
#include "Markers.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/Attr.h"
#include "clang/AST/DeclCXX.h"
#include "clang/AST/DeclTemplate.h"
#include "clang/Sema/ParsedAttr.h"
#include "clang/Sema/Sema.h"

using namespace clang;

namespace checksync::plugin {
namespace {

/// Common part: no arguments, declarations only, attach the marker.
class MarkerAttrInfo : public ParsedAttrInfo {
public:
  MarkerAttrInfo(llvm::StringLiteral Marker) : Marker(Marker) {
    NumArgs = 0;
    OptArgs = 0;
  }

  AttrHandling handleDeclAttribute(Sema &S, Decl *D,
                                   const ParsedAttr &Attr) const override {
    if (Attr.getNumArgs() != 0) {
      reportError(S.getDiagnostics(), Attr.getLoc(),
                  "'" + Attr.getNormalizedFullName() +
                      "' takes no arguments");
      return AttributeNotApplied;
    }
    if (!hasMarker(D, Marker))
      D->addAttr(AnnotateAttr::CreateImplicit(S.Context, Marker, nullptr, 0,
                                              Attr.getRange()));
    return AttributeApplied;
  }

  bool diagAppertainsToStmt(Sema &S, const ParsedAttr &Attr,
                            const Stmt *) const override {
    reportError(S.getDiagnostics(), Attr.getLoc(),
                "'" + Attr.getNormalizedFullName() +
                    "' cannot be applied to a statement");
    return false;
  }

protected:
  bool reject(Sema &S, const ParsedAttr &Attr, const llvm::Twine &Msg) const {
    reportError(S.getDiagnostics(), Attr.getLoc(), Msg.str());
    return false;
  }

private:
  llvm::StringLiteral Marker;
};

class PersistentAttrInfo : public MarkerAttrInfo {
public:
  PersistentAttrInfo() : MarkerAttrInfo(PersistentMarker) {
    static constexpr Spelling S[] = {
        {ParsedAttr::AS_CXX11, "checksync::persistent"}};
    Spellings = S;
  }

  bool diagAppertainsToDecl(Sema &S, const ParsedAttr &Attr,
                            const Decl *D) const override {
    const auto *RD = dyn_cast<CXXRecordDecl>(D);
    if (!RD)
      return reject(S, Attr,
                    "'checksync::persistent' can only be applied to a class "
                    "or struct definition");
    if (RD->isUnion())
      return reject(S, Attr,
                    "'checksync::persistent' cannot be applied to union '" +
                        RD->getName() +
                        "': unions are not supported; use a struct");
    return true;
  }
};

class RootAttrInfo : public MarkerAttrInfo {
public:
  RootAttrInfo() : MarkerAttrInfo(RootMarker) {
    static constexpr Spelling S[] = {{ParsedAttr::AS_CXX11, "checksync::root"}};
    Spellings = S;
  }

  bool diagAppertainsToDecl(Sema &S, const ParsedAttr &Attr,
                            const Decl *D) const override {
    static constexpr llvm::StringLiteral Rule =
        "'checksync::root' can only be applied to a namespace-scope variable";
    const auto *VD = dyn_cast<VarDecl>(D);
    if (!VD || isa<ParmVarDecl>(VD) || isa<DecompositionDecl>(VD))
      return reject(S, Attr, Twine(Rule) +
                                 "; roots are global variables that survive "
                                 "a resume");
    std::string Name = VD->getNameAsString();
    if (VD->isStaticDataMember())
      return reject(S, Attr,
                    Twine(Rule) + "; '" + Name +
                        "' is a static data member: declare a namespace-scope "
                        "variable instead");
    if (!VD->getDeclContext()->getRedeclContext()->isFileContext())
      return reject(S, Attr,
                    Twine(Rule) + "; '" + Name +
                        "' is a local variable: declare it at namespace scope");
    if (VD->getTLSKind() != VarDecl::TLS_None)
      return reject(S, Attr,
                    Twine(Rule) + "; '" + Name +
                        "' is thread_local, and only one instance of a root "
                        "can be restored: remove thread_local");
    if (VD->getType()->isReferenceType())
      return reject(S, Attr,
                    Twine(Rule) + "; '" + Name +
                        "' is a reference, which cannot be re-bound on "
                        "resume: use a pointer");
    return true;
  }
};

class TransientAttrInfo : public MarkerAttrInfo {
public:
  TransientAttrInfo() : MarkerAttrInfo(TransientMarker) {
    static constexpr Spelling S[] = {
        {ParsedAttr::AS_CXX11, "checksync::transient"}};
    Spellings = S;
  }

  bool diagAppertainsToDecl(Sema &S, const ParsedAttr &Attr,
                            const Decl *D) const override {
    if (!isa<FieldDecl>(D))
      return reject(S, Attr,
                    "'checksync::transient' can only be applied to a "
                    "non-static data member of a [[checksync::persistent]] "
                    "class or struct");
    return true;
  }
};

/// [[checksync::allow_lossy]] on a field: a resume from a checkpoint where the
/// field was wider (or of another arithmetic kind) converts it, clamping
/// values that do not fit (docs/evolution.md).
class AllowLossyAttrInfo : public MarkerAttrInfo {
public:
  AllowLossyAttrInfo() : MarkerAttrInfo(AllowLossyMarker) {
    static constexpr Spelling S[] = {{ParsedAttr::AS_CXX11, "checksync::allow_lossy"}};
    Spellings = S;
  }

  bool diagAppertainsToDecl(Sema &S, const ParsedAttr &Attr, const Decl *D) const override {
    if (!isa<FieldDecl>(D))
      return reject(S, Attr,
                    "'checksync::allow_lossy' can only be applied to a non-static data "
                    "member of a [[checksync::persistent]] class or struct");
    return true;
  }
};

/// [[checksync::renamed_from("old")]] on a field: a checkpoint that has a
/// field `old` (and none with this field's name) resumes into this one
/// (docs/evolution.md). On a class: a checkpoint's type `old::Name` (a
/// qualified name) resumes into this one. Repeatable; the names are kept as
/// an annotation "checksync.renamed_from:old".
class RenamedFromAttrInfo : public ParsedAttrInfo {
public:
  RenamedFromAttrInfo() {
    NumArgs = 1;
    OptArgs = 0;
    NumArgMembers = 1; // without it the parser drops the argument
    // Clang 19 parses a C++11 attribute's arguments only if some plugin
    // spells its name without the scope (clang::hasAttribute ignores the
    // scope for plugins): hence the unscoped spelling, refused below.
    static constexpr Spelling S[] = {{ParsedAttr::AS_CXX11, "checksync::renamed_from"},
                                     {ParsedAttr::AS_CXX11, "renamed_from"}};
    Spellings = S;
  }

  bool diagAppertainsToDecl(Sema &S, const ParsedAttr &Attr, const Decl *D) const override {
    if (isa<FieldDecl>(D))
      return true;
    if (const auto *RD = dyn_cast<CXXRecordDecl>(D); RD && !RD->isUnion()) {
      if (!RD->getDescribedClassTemplate() && !isa<ClassTemplateSpecializationDecl>(RD))
        return true;
      reportError(S.getDiagnostics(), Attr.getLoc(),
                  "'checksync::renamed_from' cannot be applied to a class template: each "
                  "of its specialisations is a type of its own");
      return false;
    }
    reportError(S.getDiagnostics(), Attr.getLoc(),
                "'checksync::renamed_from' can only be applied to a non-static data member "
                "of a [[checksync::persistent]] class or struct, or to such a class");
    return false;
  }

  AttrHandling handleDeclAttribute(Sema &S, Decl *D, const ParsedAttr &Attr) const override {
    if (!Attr.getScopeName() || !Attr.getScopeName()->isStr("checksync")) {
      reportError(S.getDiagnostics(), Attr.getLoc(),
                  "write [[checksync::renamed_from(\"old\")]], with the checksync:: scope");
      return AttributeNotApplied;
    }
    const auto *Lit = Attr.getNumArgs() == 1 && Attr.isArgExpr(0)
                          ? dyn_cast<StringLiteral>(Attr.getArgAsExpr(0)->IgnoreParenCasts())
                          : nullptr;
    llvm::StringRef Old = Lit && Lit->isOrdinary() ? Lit->getString() : "";
    bool OnType = isa<CXXRecordDecl>(D);
    if (OnType)
      Old.consume_front("::");
    // A field's former name is an identifier; a type's, a qualified name
    // (identifiers joined by "::", no template arguments).
    bool Valid = !Old.empty();
    for (llvm::StringRef Rest = Old; Valid && !Rest.empty();) {
      auto [Part, Tail] = Rest.split("::");
      Valid = !Part.empty() && (std::isalpha(Part[0]) || Part[0] == '_') &&
              llvm::all_of(Part, [](char C) { return std::isalnum(C) || C == '_'; }) &&
              (OnType || Tail.empty()) && (Tail.empty() == (Part.size() == Rest.size()));
      Rest = Tail;
    }
    if (!Valid) {
      reportError(S.getDiagnostics(), Attr.getLoc(),
                  OnType ? "'checksync::renamed_from' on a class takes its former qualified "
                           "name as a string literal, e.g. "
                           "[[checksync::renamed_from(\"shop::Order\")]] (templates are not "
                           "supported)"
                         : "'checksync::renamed_from' takes the field's former name as a "
                           "string literal, e.g. [[checksync::renamed_from(\"qty\")]]");
      return AttributeNotApplied;
    }
    D->addAttr(AnnotateAttr::CreateImplicit(S.Context, (RenamedFromMarker + Old).str(), nullptr,
                                            0, Attr.getRange()));
    return AttributeApplied;
  }
};

} // namespace
} // namespace checksync::plugin

static clang::ParsedAttrInfoRegistry::Add<checksync::plugin::AllowLossyAttrInfo>
    AllowLossyAttr("checksync-allow-lossy",
                   "[[checksync::allow_lossy]]: a resume may narrow this field");
static clang::ParsedAttrInfoRegistry::Add<checksync::plugin::RenamedFromAttrInfo>
    RenamedFromAttr("checksync-renamed-from",
                    "[[checksync::renamed_from(\"old\")]]: a field's or type's former name");
static clang::ParsedAttrInfoRegistry::Add<
    checksync::plugin::PersistentAttrInfo>
    PersistentAttr("checksync-persistent",
                   "[[checksync::persistent]]: a checkpointed type");
static clang::ParsedAttrInfoRegistry::Add<checksync::plugin::RootAttrInfo>
    RootAttr("checksync-root", "[[checksync::root]]: a checkpoint root");
static clang::ParsedAttrInfoRegistry::Add<checksync::plugin::TransientAttrInfo>
    TransientAttr("checksync-transient",
                  "[[checksync::transient]]: a field left out of checkpoints");
