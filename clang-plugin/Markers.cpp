//===- Markers.cpp - CheckSync attribute markers and shared helpers ------===//
#include "Markers.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/Attr.h"
#include "clang/AST/DeclCXX.h"
#include "clang/AST/DeclTemplate.h"
#include "clang/Basic/Diagnostic.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/raw_ostream.h"

using namespace clang;

namespace checksync::plugin {

bool hasMarker(const Decl *D, llvm::StringRef Marker) {
  for (const auto *A : D->specific_attrs<AnnotateAttr>())
    if (A->getAnnotation() == Marker)
      return true;
  return false;
}

bool isCharacterType(const BuiltinType *BT) {
  switch (BT->getKind()) {
  case BuiltinType::Char_S:
  case BuiltinType::Char_U:
  case BuiltinType::WChar_S:
  case BuiltinType::WChar_U:
  case BuiltinType::Char8:
  case BuiltinType::Char16:
  case BuiltinType::Char32:
    return true;
  default:
    return false;
  }
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

/// Template arguments of std templates that the spelling leaves out when they
/// are the library's default (the codec only accepts those anyway).
static unsigned significantArgs(llvm::StringRef Name) {
  return llvm::StringSwitch<unsigned>(Name)
      .Cases("std::basic_string", "std::vector", "std::deque", "std::set",
             "std::unordered_set", "std::unique_ptr", 1)
      .Cases("std::map", "std::unordered_map", 2)
      .Default(~0u);
}

/// Whether \p Arg is the default trailing argument of a container or string
/// whose first argument is \p First: Default<First> or, for maps,
/// std::allocator<std::pair<const First, V>>.
static bool isDefaultArg(ASTContext &Ctx, const TemplateArgument &Arg,
                         QualType First) {
  if (Arg.getKind() != TemplateArgument::Type)
    return false;
  auto firstArg = [](const ClassTemplateSpecializationDecl *S) {
    const TemplateArgumentList &A = S->getTemplateArgs();
    return A.size() && A[0].getKind() == TemplateArgument::Type
               ? A[0].getAsType()
               : QualType();
  };
  const auto *S = dyn_cast_or_null<ClassTemplateSpecializationDecl>(
      Arg.getAsType()->getAsCXXRecordDecl());
  std::string Name = stdName(S);
  if (!llvm::StringSwitch<bool>(Name)
           .Cases("std::allocator", "std::less", "std::hash", "std::equal_to",
                  "std::char_traits", "std::default_delete", true)
           .Default(false))
    return false;
  QualType Inner = firstArg(S);
  if (Inner.isNull())
    return false;
  if (Ctx.hasSameType(Inner, First))
    return true;
  const auto *Pair = dyn_cast_or_null<ClassTemplateSpecializationDecl>(
      Inner->getAsCXXRecordDecl());
  return Name == "std::allocator" && stdName(Pair) == "std::pair" &&
         !firstArg(Pair).isNull() &&
         Ctx.hasSameType(firstArg(Pair), First.withConst());
}

std::string Namer::librarySpelling(QualType T) {
  QualType C = T.getCanonicalType();
  std::string Const = C.isConstQualified() ? "const " : "";
  C = C.getUnqualifiedType();
  if (const auto *PT = C->getAs<PointerType>();
      PT && !PT->getPointeeType()->isFunctionType())
    return librarySpelling(PT->getPointeeType()) + " *" +
           (Const.empty() ? "" : " const");
  const auto *Spec = dyn_cast_or_null<ClassTemplateSpecializationDecl>(
      C->getAsCXXRecordDecl());
  std::string Name = stdName(Spec);
  if (Name.empty())
    return Const + typeName(C);

  const TemplateArgumentList &Args = Spec->getTemplateArgs();
  unsigned Shown = std::min<unsigned>(Args.size(), significantArgs(Name));
  for (unsigned I = Shown; I < Args.size(); ++I)
    if (Args[0].getKind() != TemplateArgument::Type ||
        !isDefaultArg(Ctx, Args[I], Args[0].getAsType()))
      Shown = I + 1;
  if (Name == "std::basic_string" && Shown == 1) {
    const auto *BT = Args[0].getAsType()->getAs<BuiltinType>();
    const char *Alias = nullptr;
    switch (BT ? BT->getKind() : BuiltinType::Void) {
    case BuiltinType::Char_S:
    case BuiltinType::Char_U: Alias = "std::string"; break;
    case BuiltinType::WChar_S:
    case BuiltinType::WChar_U: Alias = "std::wstring"; break;
    case BuiltinType::Char8: Alias = "std::u8string"; break;
    case BuiltinType::Char16: Alias = "std::u16string"; break;
    case BuiltinType::Char32: Alias = "std::u32string"; break;
    default: break;
    }
    if (Alias)
      return Const + Alias;
  }
  std::string S = Const + Name + "<";
  bool First = true;
  auto add = [&](const TemplateArgument &A, auto &Self) -> void {
    if (A.getKind() == TemplateArgument::Pack) {
      for (const TemplateArgument &E : A.pack_elements())
        Self(E, Self);
      return;
    }
    S += First ? "" : ", ";
    First = false;
    if (A.getKind() == TemplateArgument::Type) {
      S += librarySpelling(A.getAsType());
      return;
    }
    llvm::raw_string_ostream OS(S);
    A.print(PrintingPolicy(Ctx.getLangOpts()), OS, /*IncludeType=*/false);
  };
  for (unsigned I = 0; I < Shown; ++I)
    add(Args[I], add);
  return S + ">";
}

std::string Namer::vtableName(const CXXRecordDecl *RD) {
  std::string S;
  llvm::raw_string_ostream OS(S);
  Mangler->mangleCXXVTable(RD, OS);
  OS.flush();
  return S;
}

std::string stdName(const NamedDecl *D) {
  if (!D || !D->getIdentifier())
    return "";
  llvm::SmallVector<llvm::StringRef, 4> Parts{D->getName()};
  for (const DeclContext *DC = D->getDeclContext(); !DC->isTranslationUnit();
       DC = DC->getParent()) {
    if (const auto *NS = dyn_cast<NamespaceDecl>(DC)) {
      if (!NS->isInline())
        Parts.push_back(NS->getName());
    } else if (const auto *RD = dyn_cast<RecordDecl>(DC)) {
      Parts.push_back(RD->getName());
    } else if (!isa<LinkageSpecDecl>(DC)) {
      return "";
    }
  }
  if (Parts.back() != "std")
    return "";
  std::string S;
  for (llvm::StringRef P : llvm::reverse(Parts))
    S += (S.empty() ? "" : "::") + P.str();
  return S;
}

} // namespace checksync::plugin
