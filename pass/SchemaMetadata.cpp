//===- SchemaMetadata.cpp - the plugin's schema metadata, read ---------===//
#include "SchemaMetadata.h"

#include <checksync/abi.h>

#include "llvm/ADT/StringSwitch.h"
#include "llvm/IR/Constants.h"
#include "llvm/Support/ErrorHandling.h"

#include <algorithm>

using namespace llvm;

namespace checksync::pass {

[[noreturn]] void fail(const Twine &Msg) {
  report_fatal_error("checksync-lower: " + Msg, /*gen_crash_diag=*/false);
}

namespace {

/// Kind values from enum checksync_field_kind (abi.h).
std::optional<unsigned> kindValue(StringRef Kind) {
  return StringSwitch<std::optional<unsigned>>(Kind)
      .Case("int", CHECKSYNC_FIELD_INT)
      .Case("uint", CHECKSYNC_FIELD_UINT)
      .Case("float", CHECKSYNC_FIELD_FLOAT)
      .Case("bytes", CHECKSYNC_FIELD_BYTES)
      .Case("ref", CHECKSYNC_FIELD_REF)
      .Case("record", CHECKSYNC_FIELD_RECORD)
      .Case("codec", CHECKSYNC_FIELD_CODEC)
      .Default(std::nullopt);
}

//===-- Reading the metadata ----------------------------------------------===//

StringRef mdString(const MDNode *N, unsigned I, StringRef What) {
  if (I >= N->getNumOperands())
    fail("malformed " + What + ": missing operand " + Twine(I));
  if (auto *S = dyn_cast_or_null<MDString>(N->getOperand(I)))
    return S->getString();
  fail("malformed " + What + ": operand " + Twine(I) + " is not a string");
}

uint64_t mdInt(const MDNode *N, unsigned I, StringRef What) {
  if (I >= N->getNumOperands())
    fail("malformed " + What + ": missing operand " + Twine(I));
  if (auto *C = mdconst::dyn_extract_or_null<ConstantInt>(N->getOperand(I)))
    return C->getZExtValue();
  fail("malformed " + What + ": operand " + Twine(I) + " is not an integer");
}

/// Reads {kind, elem_size, count, target[, codec[, renamed_from[, default,
/// flags]]]} starting at operand \p First (trailing operands are written only
/// when a later one is needed: codec is "" when a field has none but is
/// renamed).
void readKind(const MDNode *N, unsigned First, FieldInfo &F, StringRef What) {
  StringRef Kind = mdString(N, First, What);
  std::optional<unsigned> K = kindValue(Kind);
  if (!K)
    fail("malformed " + What + ": unknown field kind '" + Kind + "'");
  F.Kind = *K;
  F.ElemSize = mdInt(N, First + 1, What);
  F.Count = mdInt(N, First + 2, What);
  F.Target = mdString(N, First + 3, What).str();
  if ((F.Kind == 5 || F.Kind == 6) && F.Target.empty())
    fail("malformed " + What + ": ref/record field without a target key");
  if (N->getNumOperands() > First + 4)
    F.Codec = mdString(N, First + 4, What).str();
  if (N->getNumOperands() > First + 5)
    F.RenamedFrom = mdString(N, First + 5, What).str();
  if (N->getNumOperands() > First + 6)
    F.Default = mdString(N, First + 6, What).str();
  if (N->getNumOperands() > First + 7)
    F.Flags = mdInt(N, First + 7, What);
  if (F.Kind == 7 && F.Codec.empty())
    fail("malformed " + What + ": codec field without a codec entry symbol");
}

FieldInfo readField(const MDNode *FN, StringRef What) {
  FieldInfo F;
  F.Name = mdString(FN, 0, What).str();
  F.Offset = mdInt(FN, 1, What);
  readKind(FN, 2, F, (What + " field '" + F.Name + "'").str());
  return F;
}

/// Operand \p I of a type tuple as a list of nodes; an absent operand is an
/// empty list (metadata written before ABI v2).
ArrayRef<MDOperand> mdList(const MDNode *N, unsigned I, StringRef What,
                           StringRef ListName) {
  if (I >= N->getNumOperands())
    return {};
  auto *L = dyn_cast_or_null<MDNode>(N->getOperand(I));
  if (!L)
    fail("malformed " + What + ": operand " + Twine(I) + " is not " + ListName);
  for (const MDOperand &Op : L->operands())
    if (!isa_and_nonnull<MDNode>(Op))
      fail("malformed " + What + ": an entry of " + ListName +
           " is not a node");
  return L->operands();
}

} // namespace

// !{!"key", !"qualified name", i64 size, i64 align, !{fields...},
//   !{inits...}, !{vptrs...}[, !"former names"]}
// field, init: !{!"name", i64 offset, !"kind", i64 elem_size, i64 count,
//                !"target"[, !"codec entry symbol"]}
// vptr: !{i64 offset, !"vtable symbol", i64 byte offset of the address point}
TypeInfo readType(const MDNode *N) {
  TypeInfo T;
  T.Key = mdString(N, 0, "checksync.types entry").str();
  std::string What = "type '" + T.Key + "'";
  T.Name = mdString(N, 1, What).str();
  T.Size = mdInt(N, 2, What);
  T.Align = mdInt(N, 3, What);
  if (N->getNumOperands() <= 4)
    fail("malformed " + What + ": operand 4 is not a field list");
  for (const MDOperand &Op : mdList(N, 4, What, "a field list"))
    T.Fields.push_back(readField(cast<MDNode>(Op), What));
  for (const MDOperand &Op : mdList(N, 5, What, "an init list")) {
    FieldInfo F = readField(cast<MDNode>(Op), What + " init");
    if (F.Codec.empty())
      fail("malformed " + What + ": init '" + F.Name +
           "' without a codec entry symbol");
    T.Inits.push_back(std::move(F));
  }
  for (const MDOperand &Op : mdList(N, 6, What, "a vptr list")) {
    auto *VN = cast<MDNode>(Op);
    VPtrInfo V;
    V.Offset = mdInt(VN, 0, What + " vptr");
    V.VTable = mdString(VN, 1, What + " vptr").str();
    V.ByteOffset = mdInt(VN, 2, What + " vptr");
    if (V.VTable.empty())
      fail("malformed " + What + ": vptr without a vtable symbol");
    T.VPtrs.push_back(std::move(V));
  }
  if (N->getNumOperands() > 7)
    T.RenamedFrom = mdString(N, 7, What).str();
  auto ByOffset = [](const auto &A, const auto &B) {
    return A.Offset < B.Offset;
  };
  llvm::stable_sort(T.Fields, ByOffset);
  llvm::stable_sort(T.Inits, ByOffset);
  llvm::stable_sort(T.VPtrs, ByOffset);
  return T;
}

// !{ptr @global, !"qualified name", !"kind", i64 elem_size, i64 count,
//   !"target"[, !"codec entry symbol"]}; the operand is null if the global was
// deleted.
std::optional<RootInfo> readRoot(const MDNode *N) {
  if (N->getNumOperands() < 1)
    fail("malformed checksync.roots entry");
  RootInfo R;
  R.Address = mdconst::dyn_extract_or_null<GlobalValue>(N->getOperand(0));
  if (!R.Address)
    return std::nullopt;
  R.Field.Name = mdString(N, 1, "checksync.roots entry").str();
  readKind(N, 2, R.Field, "root '" + R.Field.Name + "'");
  return R;
}

} // namespace checksync::pass
