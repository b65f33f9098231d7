//===- SchemaBuilder.cpp - validate persistent records and roots ---------===//
//
// The rules (docs/compiler.md lists every diagnostic):
//  * a persistent record may be polymorphic and may have non-virtual bases;
//    bases holding data must be persistent and become "record" fields named
//    after the base; every vtable pointer of a complete object is recorded;
//  * each non-transient field is an arithmetic or enum value, a pointer to a
//    persistent type ("ref"), a persistent record by value ("record"), a
//    supported standard library type ("codec", LibraryTypes.cpp), a union
//    without pointers ("bytes") or a fixed-size array of those;
//  * a transient field may have any non-reference type; if it needs
//    construction, resume constructs it through transient_entry<T> ("inits");
//  * a root is a non-const namespace-scope variable of one of those kinds.
// Everything else is an error naming the record/variable, the field, the
// type, why, and what to do instead.
//
//===----------------------------------------------------------------------===//
#include "SchemaBuilder.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/Attr.h"
#include "clang/AST/RecordLayout.h"
#include "clang/AST/VTableBuilder.h"
#include "clang/Basic/Diagnostic.h"
#include "clang/Basic/TargetInfo.h"
#include "clang/Sema/Sema.h"

#include <map>

using namespace clang;

namespace checksync::plugin {

namespace {
/// The former names [[checksync::renamed_from]] gave \p D, ',' separated.
std::string renamedFrom(const Decl *D, std::string Names = "") {
  for (const auto *A : D->specific_attrs<AnnotateAttr>()) {
    llvm::StringRef S = A->getAnnotation();
    if (!S.consume_front(RenamedFromMarker))
      continue;
    llvm::SmallVector<llvm::StringRef, 4> Have;
    llvm::StringRef(Names).split(Have, ',', -1, false);
    if (!llvm::is_contained(Have, S)) // redeclarations inherit the attribute
      Names += (Names.empty() ? "" : ",") + S.str();
  }
  return Names;
}

/// A bool or an array of bools.
bool isBool(QualType T) {
  return T.getCanonicalType()->getBaseElementTypeUnsafe()->isBooleanType();
}
} // namespace


static constexpr llvm::StringLiteral TransientHint = CacheOnlyHint;

static std::string markTypeOrTransient(const std::string &Type) {
  return "mark '" + Type + "' [[checksync::persistent]]; or, " + CacheOnlyHint.str();
}

SchemaBuilder::SchemaBuilder(ASTContext &Ctx, Namer &N, Schema &S,
                             CodecInstantiator &Codecs)
    : Ctx(Ctx), Diags(Ctx.getDiagnostics()), N(N), S(S), Codecs(Codecs) {}

namespace {

FieldSchema scalar(llvm::StringRef Kind, uint64_t Size) {
  FieldSchema F;
  F.Kind = Kind.str();
  F.ElemSize = Size;
  return F;
}

/// Whether a value of \p T holds a pointer, reference or member pointer.
bool containsPointers(QualType T) {
  QualType C = T.getCanonicalType();
  if (const auto *AT = dyn_cast<ArrayType>(C.getTypePtr()))
    return containsPointers(AT->getElementType());
  if (C->isPointerType() || C->isReferenceType() || C->isMemberPointerType())
    return true;
  if (const auto *RD = C->getAsCXXRecordDecl()) {
    if (!RD->hasDefinition())
      return false;
    for (const FieldDecl *FD : RD->fields())
      if (containsPointers(FD->getType()))
        return true;
    for (const CXXBaseSpecifier &B : RD->bases())
      if (containsPointers(B.getType()))
        return true;
  }
  return false;
}

/// A class whose objects hold no data members (an empty class or an
/// interface that only contributes vtable pointers).
bool holdsNoData(const CXXRecordDecl *RD) {
  if (!RD || !RD->hasDefinition() || !RD->field_empty())
    return false;
  for (const CXXBaseSpecifier &B : RD->bases())
    if (!holdsNoData(B.getType()->getAsCXXRecordDecl()))
      return false;
  return true;
}

} // namespace

SchemaBuilder::Classified SchemaBuilder::classifyUnion(QualType C,
                                                       uint64_t Bytes) {
  Classified R;
  if (!C.isTriviallyCopyableType(Ctx)) {
    R.P = {"unions with non-trivial members are not supported (the active "
           "member is unknown)",
           TransientHint.str()};
    return R;
  }
  if (containsPointers(C)) {
    R.P = {"union '" + N.typeName(C) +
               "' holds pointers, which cannot be swizzled on resume because "
               "its active member is unknown",
           "store the pointers outside the union; or, " + TransientHint.str()};
    return R;
  }
  R.Field = scalar("bytes", Bytes); // plain data: copied as opaque bytes
  return R;
}

namespace {
SchemaBuilder::Classified failed(std::string Why, std::string Hint = TransientHint.str()) {
  SchemaBuilder::Classified R;
  R.P = SchemaBuilder::Problem{std::move(Why), std::move(Hint)};
  return R;
}
SchemaBuilder::Classified as(FieldSchema F) {
  SchemaBuilder::Classified R;
  R.Field = std::move(F);
  return R;
}
} // namespace

SchemaBuilder::Classified SchemaBuilder::classify(QualType T) {
  QualType C = T.getCanonicalType().getUnqualifiedType();
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
    return failed("arrays without a constant size cannot be checkpointed");
  if (const auto *BT = C->getAs<BuiltinType>())
    return classifyBuiltin(BT, Bytes);
  if (const auto *ET = C->getAs<EnumType>()) {
    QualType U = ET->getDecl()->getIntegerType();
    if (U.isNull())
      return failed("an enum without a known underlying type cannot be checkpointed");
    return as(scalar(U->isSignedIntegerType() ? "int" : "uint", Bytes));
  }
  if (const auto *PT = C->getAs<PointerType>())
    return classifyPointer(PT->getPointeeType().getCanonicalType().getUnqualifiedType());
  if (C->isReferenceType())
    return failed("references cannot be checkpointed (they cannot be re-bound on resume)");
  if (C->isMemberPointerType())
    return failed("member pointers cannot be checkpointed");
  if (C->getAsCXXRecordDecl())
    return classifyRecord(C, Bytes);
  if (C->isAtomicType())
    return failed("_Atomic types are not supported yet");
  return failed("this type is not supported");
}

SchemaBuilder::Classified SchemaBuilder::classifyBuiltin(const BuiltinType *BT,
                                                         uint64_t Bytes) {
  switch (BT->getKind()) {
  case BuiltinType::Float:
  case BuiltinType::Double:
    return as(scalar("float", Bytes));
  case BuiltinType::Int128:
  case BuiltinType::UInt128:
  case BuiltinType::LongDouble:
  case BuiltinType::Float128:
  case BuiltinType::Ibm128:
  case BuiltinType::Half:
  case BuiltinType::Float16:
  case BuiltinType::BFloat16:
  case BuiltinType::NullPtr:
    return as(scalar("bytes", Bytes));
  default:
    break;
  }
  if (BT->isBooleanType() || isCharacterType(BT) || BT->isUnsignedInteger())
    return as(scalar("uint", Bytes));
  if (BT->isSignedInteger())
    return as(scalar("int", Bytes));
  return failed("this builtin type is not supported");
}

/// A pointer field: a ref to a persistent type (or one declared later).
SchemaBuilder::Classified SchemaBuilder::classifyPointer(QualType P) {
  if (P->isFunctionType())
    return failed("function pointers cannot be checkpointed (code addresses differ between "
                  "runs)");
  const auto *RD = P->getAsCXXRecordDecl();
  if (const auto *Inner = P->getAs<PointerType>()) {
    // `T **forward = new T*[n]` (the classic skip list): an array of refs
    // whose length the runtime cannot know.
    QualType E = Inner->getPointeeType().getCanonicalType().getUnqualifiedType();
    if (const auto *ERD = E->getAsCXXRecordDecl(); ERD && isPersistent(ERD))
      return failed("a pointer to pointers ('" + N.typeName(E) +
                        " **') cannot be checkpointed: if it owns an array (new " +
                        N.typeName(E) + "*[n]), its length is unknown",
                    "hold the refs in a std::vector<" + N.typeName(E) +
                        " *> (or a fixed-size array member " + N.typeName(E) + " *[N])");
  }
  if (!RD)
    return failed("raw pointers to non-persistent types cannot be checkpointed");
  Classified R = as(scalar("ref", 8));
  R.Field->Target = N.typeKey(P);
  if (isPersistent(RD))
    return R;
  if (!RD->hasDefinition()) {
    // Forward-declared: the definition (with the attribute) may follow, as
    // in mutually recursive types. Decide at the end of the TU.
    R.Pending.push_back({P, /*ByValue=*/false});
    return R;
  }
  if (!stdName(RD).empty())
    return failed("pointers to standard library types are not supported yet");
  return failed("raw pointers to non-persistent types cannot be checkpointed: '" +
                    N.typeName(P) + "' is not [[checksync::persistent]]",
                markTypeOrTransient(N.typeName(P)));
}

/// A record by value: a library type (its codec), a persistent record, or
/// an error.
SchemaBuilder::Classified SchemaBuilder::classifyRecord(QualType C, uint64_t Bytes) {
  const auto *RD = C->getAsCXXRecordDecl();
  if (RD->isUnion())
    return classifyUnion(C, Bytes);
  if (!stdName(RD).empty()) {
    Classified R;
    if (std::optional<Problem> P = checkLibrary(C, R.Pending))
      return failed(P->Why, P->Hint);
    R.Field = scalar("codec", Bytes);
    R.Field->Target = N.librarySpelling(C);
    R.CodecType = C;
    return R;
  }
  if (isPersistent(RD)) {
    Classified R = as(scalar("record", Bytes));
    R.Field->Target = N.typeKey(C);
    return R;
  }
  if (RD->isAnonymousStructOrUnion() || RD->getIdentifier() == nullptr)
    return failed("unnamed non-persistent structs cannot be checkpointed (give the struct a "
                  "name and mark it [[checksync::persistent]])");
  if (RD->getQualifiedNameAsString() == "__gnu_cxx::__normal_iterator") // vector, string
    return failed("'" + N.typeName(C) +
                      "' is an iterator into a container that moves its "
                      "elements, which does not survive a resume (only "
                      "iterators into std::list, forward_list, map, "
                      "multimap, set and multiset do: their elements are "
                      "nodes)",
                  "store the element's index, or a ref to a persistent object");
  return failed("'" + N.typeName(C) + "' is not [[checksync::persistent]], so its layout is "
                                      "unknown",
                markTypeOrTransient(N.typeName(C)));
}

std::optional<FieldSchema> SchemaBuilder::fieldFor(QualType T,
                                                   SourceLocation Loc,
                                                   const std::string &Subject,
                                                   bool IsRoot) {
  Classified C = classify(T);
  if (C.Field) {
    for (const PendingType &P : C.Pending)
      Pending.push_back({P, Loc, Subject, N.spelled(T), IsRoot});
    if (!C.CodecType.isNull()) {
      C.Field->Codec = Codecs.entryFor(C.CodecType, /*Transient=*/false, Loc);
      if (C.Field->Codec.empty())
        return std::nullopt; // instantiation failed; clang said why
    }
    return C.Field;
  }
  std::string Msg = Subject + " has type '" + N.spelled(T) + "': " + C.P.Why;
  if (IsRoot)
    Msg += "; a root must hold a pointer to a [[checksync::persistent]] type, "
           "a persistent value, a supported library type or plain data";
  else
    Msg += "; " + C.P.Hint;
  reportError(Diags, Loc, Msg);
  return std::nullopt;
}

void SchemaBuilder::finish() {
  for (const PendingDefault &P : Defaults)
    for (TypeSchema &T : S.Types)
      if (T.Key == P.TypeKey)
        for (FieldSchema &F : T.Fields)
          if (F.Name == P.Field && F.Default.empty())
            F.Default = defaultValue(P.FD, F);
  Defaults.clear();
  for (const PendingRef &P : Pending) {
    const auto *RD = P.P.Type->getAsCXXRecordDecl();
    if (RD && isPersistent(RD))
      continue;
    std::string Type = N.typeName(P.P.Type);
    std::string Msg = P.Subject + " has type '" + P.Spelled + "': " +
                      (P.P.ByValue ? "" : "raw pointers to non-persistent "
                                          "types cannot be checkpointed: ") +
                      "'" + Type +
                      "' is not [[checksync::persistent]] (it is never "
                      "defined with the attribute in this translation unit)";
    Msg += P.IsRoot ? "; mark '" + Type + "' [[checksync::persistent]]"
                    : "; " + markTypeOrTransient(Type);
    reportError(Diags, P.Loc, Msg);
  }
  Pending.clear();
}

bool SchemaBuilder::handleBases(const CXXRecordDecl *RD,
                                const std::string &Name, TypeSchema &T) {
  if (RD->getNumVBases() > 0) {
    reportError(Diags, RD->getLocation(),
                "persistent type '" + Name +
                    "' has a virtual base class: virtual inheritance is not "
                    "supported; use non-virtual inheritance");
    return false;
  }
  const ASTRecordLayout &Layout = Ctx.getASTRecordLayout(RD);
  bool OK = true;
  for (const CXXBaseSpecifier &B : RD->bases()) {
    const CXXRecordDecl *BD = B.getType()->getAsCXXRecordDecl();
    if (!BD)
      continue;
    std::string BaseName = N.typeName(B.getType());
    bool Persistent = isPersistent(BD);
    if (!Persistent && !holdsNoData(BD)) {
      reportError(Diags, B.getBeginLoc(),
                  "persistent type '" + Name + "' has base class '" +
                      BaseName +
                      "', which is not [[checksync::persistent]], so its "
                      "fields cannot be checkpointed; mark '" +
                      BaseName + "' [[checksync::persistent]]");
      OK = false;
      continue;
    }
    if (holdsNoData(BD))
      continue; // nothing to store; its vptr (if any) is in T.VPtrs
    FieldSchema F = scalar("record", Ctx.getTypeSizeInChars(B.getType())
                                         .getQuantity());
    F.Name = BaseName;
    F.Offset = Layout.getBaseClassOffset(BD).getQuantity();
    F.Target = N.typeKey(B.getType());
    T.Fields.push_back(std::move(F));
  }
  return OK;
}

bool SchemaBuilder::handleTransient(const FieldDecl *FD,
                                    const std::string &Name, uint64_t Offset,
                                    TypeSchema &T) {
  QualType FT = FD->getType();
  std::string Subject = "transient field '" + FD->getNameAsString() +
                        "' of type '" + N.spelled(FT) +
                        "' in persistent type '" + Name + "'";
  if (FT->isReferenceType()) {
    reportError(Diags, FD->getLocation(),
                Subject + " is a reference, which cannot be value-initialised "
                          "on resume; use a pointer");
    return false;
  }
  QualType E = Ctx.getBaseElementType(FT).getCanonicalType()
                   .getUnqualifiedType();
  const auto *RD = E->getAsCXXRecordDecl();
  if (!RD || !RD->hasDefinition() ||
      (RD->hasTrivialDefaultConstructor() && RD->hasTrivialDestructor()))
    return true; // resume zero-fills it
  if (!RD->hasDefaultConstructor()) {
    reportError(Diags, FD->getLocation(),
                Subject + " has no default constructor, but resume "
                          "value-initialises transient fields; add a default "
                          "constructor or hold it through a pointer");
    return false;
  }
  std::string Entry = Codecs.entryFor(E, /*Transient=*/true,
                                      FD->getLocation());
  if (Entry.empty())
    return false;
  uint64_t ElemSize = Ctx.getTypeSizeInChars(E).getQuantity();
  FieldSchema I = scalar("codec", ElemSize);
  I.Name = FD->getNameAsString();
  I.Offset = Offset;
  I.Count = ElemSize ? Ctx.getTypeSizeInChars(FT).getQuantity() / ElemSize : 1;
  I.Target = N.librarySpelling(E);
  I.Codec = std::move(Entry);
  T.Inits.push_back(std::move(I));
  return true;
}

void SchemaBuilder::addVPtrs(const CXXRecordDecl *RD, TypeSchema &T) {
  if (!RD->isDynamicClass())
    return;
  if (SemaRef) {
    // The descriptor refers to the vtable: make sure this TU emits it (or
    // references the one emitted with the key function).
    Sema::ContextRAII TUContext(*SemaRef, Ctx.getTranslationUnitDecl());
    SemaRef->MarkVTableUsed(RD->getLocation(), const_cast<CXXRecordDecl *>(RD),
                            /*DefinitionRequired=*/true);
  }
  auto *VTC = dyn_cast<ItaniumVTableContext>(Ctx.getVTableContext());
  if (!VTC) {
    reportError(Diags, RD->getLocation(),
                "polymorphic persistent type '" + T.Name +
                    "' needs the Itanium C++ ABI");
    return;
  }
  const VTableLayout &L = VTC->getVTableLayout(RD);
  uint64_t PtrBytes =
      Ctx.getTargetInfo().getPointerWidth(LangAS::Default) / 8;
  std::string Symbol = N.vtableName(RD);
  std::map<uint64_t, uint64_t> ByOffset; // primary bases share one vptr
  for (const auto &[Base, AP] : L.getAddressPoints())
    ByOffset.emplace(Base.getBaseOffset().getQuantity(),
                     (L.getVTableOffset(AP.VTableIndex) + AP.AddressPointIndex) *
                         PtrBytes);
  for (auto [Offset, ByteOffset] : ByOffset)
    T.VPtrs.push_back({Offset, Symbol, ByteOffset});
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
  const ASTRecordLayout &Layout = Ctx.getASTRecordLayout(RD);
  TypeSchema T;
  T.Key = N.typeKey(RT);
  T.Name = Name;
  T.Size = Layout.getSize().getQuantity();
  T.Align = Layout.getAlignment().getQuantity();
  for (const Decl *R : RD->redecls())
    T.RenamedFrom = renamedFrom(R, T.RenamedFrom);
  bool OK = handleBases(RD, Name, T);
  for (const FieldDecl *FD : RD->fields()) {
    std::string FieldName = FD->getNameAsString();
    if (FieldName.empty())
      FieldName = FD->getType()->isUnionType() ? "(anonymous union)"
                                               : "(anonymous struct)";
    std::string Subject =
        "field '" + FieldName + "' of persistent type '" + Name + "'";
    uint64_t Offset =
        Ctx.toCharUnitsFromBits(Layout.getFieldOffset(FD->getFieldIndex()))
            .getQuantity();
    if (hasMarker(FD, TransientMarker)) {
      OK &= handleTransient(FD, Name, Offset, T);
      continue;
    }
    if (FD->isBitField()) {
      reportError(Diags, FD->getLocation(),
                  Subject + " is a bit-field: bit-fields are not supported "
                            "yet; use a plain integer field; or, " +
                      CacheOnlyHint.str());
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
    F->Offset = Offset;
    F->RenamedFrom = renamedFrom(FD);
    if (hasMarker(FD, AllowLossyMarker))
      F->Flags |= CHECKSYNC_FIELD_ALLOW_LOSSY;
    if (isBool(FD->getType()))
      F->Flags |= CHECKSYNC_FIELD_BOOL;
    if (FD->hasInClassInitializer()) {
      F->Flags |= CHECKSYNC_FIELD_HAS_INITIALISER;
      // Late-parsed: evaluated at the end of the translation unit.
      Defaults.push_back({T.Key, F->Name, FD});
    }
    T.Fields.push_back(std::move(*F));
  }
  if (!OK)
    return;
  if (!RD->isAbstract()) // an abstract class is never a complete object
    addVPtrs(RD, T);
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
  if (isBool(VD->getType()))
    F->Flags |= CHECKSYNC_FIELD_BOOL;
  F->Offset = 0;
  if (!VD->hasAttr<UsedAttr>())
    VD->addAttr(UsedAttr::CreateImplicit(Ctx));
  S.addRoot(RootSchema{N.symbolName(VD), std::move(*F)});
}

} // namespace checksync::plugin
