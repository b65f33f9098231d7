//===- SchemaBuilder.cpp - validate persistent records and roots ---------===//
//
// The rules (docs/compiler.md lists every diagnostic):
//  * a persistent record is a non-polymorphic class without bases;
//  * each non-transient field is an arithmetic or enum value, a pointer to a
//    persistent type ("ref"), a persistent record by value ("record") or a
//    fixed-size array of those;
//  * a transient field may have any type that needs no construction (resume
//    zero-fills it);
//  * a root is a non-const namespace-scope variable of one of those kinds.
// Everything else is an error naming the record/variable, the field, the
// type, why, and what to do instead.
//
//===----------------------------------------------------------------------===//
#include "SchemaBuilder.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/Attr.h"
#include "clang/AST/RecordLayout.h"
#include "clang/Basic/Diagnostic.h"

using namespace clang;

namespace checksync::plugin {

/// Why a type cannot be checkpointed and what to suggest.
struct SchemaBuilder::Problem {
  enum HintKind {
    MarkTransient,      ///< "mark the field [[checksync::transient]]"
    MarkTypeOrTransient ///< "mark 'T' persistent or the field transient"
  };
  std::string Why;
  HintKind Hint = MarkTransient;
  std::string Other; ///< the type to mark, for MarkTypeOrTransient
};

struct SchemaBuilder::Classified {
  std::optional<FieldSchema> Field; ///< name and offset left empty
  Problem P;
  clang::QualType PendingPointee; ///< set for a ref to an incomplete type
};

SchemaBuilder::SchemaBuilder(ASTContext &Ctx, Namer &N, Schema &S)
    : Ctx(Ctx), Diags(Ctx.getDiagnostics()), N(N), S(S) {}

namespace {

FieldSchema scalar(llvm::StringRef Kind, uint64_t Size) {
  FieldSchema F;
  F.Kind = Kind.str();
  F.ElemSize = Size;
  return F;
}

/// Plain `char`, `wchar_t` and the charN_t types are "uint" whatever the
/// target's signedness of `char`: they hold code units, not numbers.
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

} // namespace

SchemaBuilder::Classified SchemaBuilder::classify(QualType T) {
  QualType C = T.getCanonicalType().getUnqualifiedType();
  Classified R;
  auto fail = [&](std::string Why, Problem::HintKind Hint = Problem::MarkTransient,
                  std::string Other = "") {
    R.P = Problem{std::move(Why), Hint, std::move(Other)};
    return R;
  };
  uint64_t Bytes = C->isIncompleteType() || C->isDependentType()
                       ? 0
                       : Ctx.getTypeSizeInChars(C).getQuantity();

  if (const auto *AT = Ctx.getAsConstantArrayType(C)) {
    Classified Elem = classify(AT->getElementType());
    if (Elem.Field)
      Elem.Field->Count *= AT->getZExtSize();
    return Elem;
  }
  if (C->isArrayType())
    return fail("arrays without a constant size cannot be checkpointed");

  if (const auto *BT = C->getAs<BuiltinType>()) {
    switch (BT->getKind()) {
    case BuiltinType::Float:
    case BuiltinType::Double:
      R.Field = scalar("float", Bytes);
      return R;
    case BuiltinType::Int128:
    case BuiltinType::UInt128:
    case BuiltinType::LongDouble:
    case BuiltinType::Float128:
    case BuiltinType::Ibm128:
    case BuiltinType::Half:
    case BuiltinType::Float16:
    case BuiltinType::BFloat16:
    case BuiltinType::NullPtr:
      R.Field = scalar("bytes", Bytes);
      return R;
    default:
      break;
    }
    if (BT->isBooleanType() || isCharacterType(BT) ||
        BT->isUnsignedInteger()) {
      R.Field = scalar("uint", Bytes);
      return R;
    }
    if (BT->isSignedInteger()) {
      R.Field = scalar("int", Bytes);
      return R;
    }
    return fail("this builtin type is not supported");
  }

  if (const auto *ET = C->getAs<EnumType>()) {
    QualType U = ET->getDecl()->getIntegerType();
    if (U.isNull())
      return fail("an enum without a known underlying type cannot be "
                  "checkpointed");
    R.Field = scalar(U->isSignedIntegerType() ? "int" : "uint", Bytes);
    return R;
  }

  if (const auto *PT = C->getAs<PointerType>()) {
    QualType P = PT->getPointeeType().getCanonicalType().getUnqualifiedType();
    if (P->isFunctionType())
      return fail("function pointers cannot be checkpointed (code addresses "
                  "differ between runs)");
    if (const auto *RD = P->getAsCXXRecordDecl()) {
      if (isPersistent(RD)) {
        R.Field = scalar("ref", 8);
        R.Field->Target = N.typeKey(P);
        return R;
      }
      if (!RD->hasDefinition()) {
        // Forward-declared: the definition (with the attribute) may follow,
        // as in mutually recursive types. Decide at the end of the TU.
        R.Field = scalar("ref", 8);
        R.Field->Target = N.typeKey(P);
        R.PendingPointee = P;
        return R;
      }
      if (RD->isInStdNamespace())
        return fail("pointers to standard library types are not supported "
                    "yet");
      return fail("raw pointers to non-persistent types cannot be "
                  "checkpointed: '" +
                      N.typeName(P) + "' is not [[checksync::persistent]]",
                  Problem::MarkTypeOrTransient, N.typeName(P));
    }
    return fail("raw pointers to non-persistent types cannot be "
                "checkpointed");
  }
  if (C->isReferenceType())
    return fail("references cannot be checkpointed (they cannot be re-bound "
                "on resume)");
  if (C->isMemberPointerType())
    return fail("member pointers cannot be checkpointed");

  if (const auto *RD = C->getAsCXXRecordDecl()) {
    if (RD->isUnion())
      return fail("unions are not supported (the active member is unknown)");
    if (RD->isInStdNamespace())
      return fail("standard library types are not supported yet");
    if (isPersistent(RD)) {
      R.Field = scalar("record", Bytes);
      R.Field->Target = N.typeKey(C);
      return R;
    }
    if (RD->isAnonymousStructOrUnion() || RD->getIdentifier() == nullptr)
      return fail("unnamed non-persistent structs cannot be checkpointed "
                  "(give the struct a name and mark it "
                  "[[checksync::persistent]])");
    return fail("'" + N.typeName(C) +
                    "' is not [[checksync::persistent]], so its layout is "
                    "unknown",
                Problem::MarkTypeOrTransient, N.typeName(C));
  }
  if (C->isAtomicType())
    return fail("_Atomic types are not supported yet");
  return fail("this type is not supported");
}

std::optional<FieldSchema> SchemaBuilder::fieldFor(QualType T,
                                                   SourceLocation Loc,
                                                   const std::string &Subject,
                                                   bool IsRoot) {
  Classified C = classify(T);
  if (C.Field) {
    if (!C.PendingPointee.isNull())
      Pending.push_back({C.PendingPointee, Loc, Subject, N.spelled(T), IsRoot});
    return C.Field;
  }
  std::string Msg = Subject + " has type '" + N.spelled(T) + "': " + C.P.Why;
  if (IsRoot) {
    Msg += "; a root must hold a pointer to a [[checksync::persistent]] type, "
           "a persistent value or plain data";
  } else if (C.P.Hint == Problem::MarkTypeOrTransient) {
    Msg += "; mark '" + C.P.Other +
           "' [[checksync::persistent]] or the field [[checksync::transient]]";
  } else {
    Msg += "; mark the field [[checksync::transient]]";
  }
  reportError(Diags, Loc, Msg);
  return std::nullopt;
}

void SchemaBuilder::finish() {
  for (const PendingRef &P : Pending) {
    const auto *RD = P.Pointee->getAsCXXRecordDecl();
    if (RD && isPersistent(RD))
      continue;
    std::string Msg = P.Subject + " has type '" + P.Spelled +
                      "': raw pointers to non-persistent types cannot be "
                      "checkpointed: '" + N.typeName(P.Pointee) +
                      "' is not [[checksync::persistent]] (it is never defined "
                      "with the attribute in this translation unit)";
    Msg += P.IsRoot ? "; mark '" + N.typeName(P.Pointee) + "' [[checksync::persistent]]"
                    : "; mark '" + N.typeName(P.Pointee) +
                          "' [[checksync::persistent]] or the field "
                          "[[checksync::transient]]";
    reportError(Diags, P.Loc, Msg);
  }
  Pending.clear();
}

bool SchemaBuilder::needsConstruction(QualType T) {
  QualType E = Ctx.getBaseElementType(T.getCanonicalType());
  if (E->isReferenceType())
    return true;
  if (const auto *RD = E->getAsCXXRecordDecl())
    return RD->hasDefinition() && (!RD->hasTrivialDefaultConstructor() ||
                                   !RD->hasTrivialDestructor());
  return false;
}

void SchemaBuilder::handleRecord(const CXXRecordDecl *RD) {
  if (!RD->isCompleteDefinition() || RD->isDependentContext() ||
      RD->isInvalidDecl())
    return;

  QualType RT = Ctx.getRecordType(RD);
  if (!isPersistent(RD)) {
    for (const FieldDecl *FD : RD->fields())
      if (hasMarker(FD, TransientMarker))
        reportError(Diags, FD->getLocation(),
                    "'checksync::transient' on field '" +
                        FD->getNameAsString() + "' of '" + N.typeName(RT) +
                        "': it can only be applied to fields of a "
                        "[[checksync::persistent]] class or struct; mark '" +
                        N.typeName(RT) +
                        "' [[checksync::persistent]] or remove the attribute");
    return;
  }

  std::string Name = N.typeName(RT);
  if (RD->isPolymorphic()) {
    reportError(Diags, RD->getLocation(),
                "persistent type '" + Name +
                    "' is polymorphic: polymorphic persistent types are not "
                    "supported yet; remove the virtual functions");
    return;
  }
  if (RD->getNumBases() + RD->getNumVBases() > 0) {
    reportError(Diags, RD->getLocation(),
                "persistent type '" + Name +
                    "' has a base class: inheritance is not supported yet; "
                    "make the base a member instead");
    return;
  }

  const ASTRecordLayout &Layout = Ctx.getASTRecordLayout(RD);
  TypeSchema T;
  T.Key = N.typeKey(RT);
  T.Name = Name;
  T.Size = Layout.getSize().getQuantity();
  T.Align = Layout.getAlignment().getQuantity();
  bool OK = true;
  for (const FieldDecl *FD : RD->fields()) {
    std::string FieldName = FD->getNameAsString();
    if (FieldName.empty())
      FieldName = FD->getType()->isUnionType() ? "(anonymous union)"
                                               : "(anonymous struct)";
    std::string Subject =
        "field '" + FieldName + "' of persistent type '" + Name + "'";
    if (hasMarker(FD, TransientMarker)) {
      if (needsConstruction(FD->getType())) {
        reportError(Diags, FD->getLocation(),
                    "not supported yet: transient field '" + FieldName +
                        "' of type '" + N.spelled(FD->getType()) +
                        "' in persistent type '" + Name +
                        "' needs construction on resume; use a pointer or a "
                        "trivially constructible type");
        OK = false;
      }
      continue;
    }
    if (FD->isBitField()) {
      reportError(Diags, FD->getLocation(),
                  Subject + " is a bit-field: bit-fields are not supported "
                            "yet; use a plain integer field or mark the "
                            "field [[checksync::transient]]");
      OK = false;
      continue;
    }
    std::optional<FieldSchema> F =
        fieldFor(FD->getType(), FD->getLocation(), Subject, /*IsRoot=*/false);
    if (!F) {
      OK = false;
      continue;
    }
    F->Name = FD->getNameAsString();
    F->Offset =
        Ctx.toCharUnitsFromBits(Layout.getFieldOffset(FD->getFieldIndex()))
            .getQuantity();
    T.Fields.push_back(std::move(*F));
  }
  if (!OK)
    return;
  llvm::stable_sort(T.Fields, [](const FieldSchema &A, const FieldSchema &B) {
    return A.Offset < B.Offset;
  });
  S.addType(std::move(T));
}

void SchemaBuilder::handleVar(VarDecl *VD) {
  bool Marked = false;
  for (const VarDecl *R : VD->redecls())
    Marked |= hasMarker(R, RootMarker);
  if (!Marked || VD->isInvalidDecl() ||
      VD->isThisDeclarationADefinition() != VarDecl::Definition)
    return;

  std::string Name = VD->getQualifiedNameAsString();
  std::string Subject = "root '" + Name + "'";
  SourceLocation Loc = VD->getLocation();
  // The attribute checks these too; repeat them for declarations whose
  // storage class was settled after the attribute was processed.
  if (VD->getTLSKind() != VarDecl::TLS_None) {
    reportError(Diags, Loc,
                Subject + " is thread_local, and only one instance of a root "
                          "can be restored: remove thread_local");
    return;
  }
  if (VD->getDescribedVarTemplate() ||
      isa<VarTemplateSpecializationDecl>(VD) || VD->getType()->isDependentType()) {
    reportError(Diags, Loc,
                Subject + " is a variable template: roots must be plain "
                          "namespace-scope variables");
    return;
  }
  if (VD->getType().isConstQualified() || VD->isConstexpr()) {
    reportError(Diags, Loc,
                Subject + " is const, but resume must write it; remove const");
    return;
  }
  std::optional<FieldSchema> F =
      fieldFor(VD->getType(), Loc, Subject, /*IsRoot=*/true);
  if (!F)
    return;
  F->Name = Name;
  F->Offset = 0;
  if (!VD->hasAttr<UsedAttr>())
    VD->addAttr(UsedAttr::CreateImplicit(Ctx));
  S.addRoot(RootSchema{N.symbolName(VD), std::move(*F)});
}

} // namespace checksync::plugin
