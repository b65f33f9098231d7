//===- SchemaPass.cpp - write the plugin's schema into the IR ------------===//
//
//   !checksync.types = !{!0, ...}
//   !0 = !{!"4Node", !"app::Node", i64 32, i64 8, !1, !4, !5}
//          ; key name size align fields inits vptrs
//   !1 = !{!2, ...}
//   !2 = !{!"key", i64 0, !"int", i64 8, i64 1, !""}    ; name offset kind elem count target
//   !6 = !{!"s", i64 8, !"codec", i64 32, i64 1, !"std::string", !"_ZN9checksync5codec5entryI...EE"}
//   !7 = !{i64 0, !"_ZTV4Node", i64 16}                 ; vptr offset, vtable, address point
//   !checksync.roots = !{!3}
//   !3 = !{ptr @head, !"head", !"ref", i64 8, i64 1, !"4Node"}
//
//===----------------------------------------------------------------------===//
#include "SchemaPass.h"

#include "LowerPass.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/Metadata.h"
#include "llvm/IR/Module.h"

using namespace llvm;

namespace checksync::plugin {
namespace {

class MDWriter {
public:
  explicit MDWriter(LLVMContext &Ctx) : Ctx(Ctx) {}

  Metadata *str(StringRef S) { return MDString::get(Ctx, S); }
  Metadata *i64(uint64_t V) {
    return ConstantAsMetadata::get(
        ConstantInt::get(Type::getInt64Ty(Ctx), V));
  }
  /// kind, elem_size, count, target
  void kindOps(const FieldSchema &F, SmallVectorImpl<Metadata *> &Ops) {
    Ops.append({str(F.Kind), i64(F.ElemSize), i64(F.Count), str(F.Target)});
    // Trailing operands only as far as the last one needed.
    bool Extra = !F.Default.empty() || F.Flags != 0;
    if (!F.Codec.empty() || !F.RenamedFrom.empty() || Extra)
      Ops.push_back(str(F.Codec));
    if (!F.RenamedFrom.empty() || Extra)
      Ops.push_back(str(F.RenamedFrom));
    if (Extra)
      Ops.append({str(F.Default), i64(F.Flags)});
  }
  MDNode *field(const FieldSchema &F) {
    SmallVector<Metadata *, 6> Ops{str(F.Name), i64(F.Offset)};
    kindOps(F, Ops);
    return MDNode::get(Ctx, Ops);
  }
  MDNode *type(const TypeSchema &T) {
    SmallVector<Metadata *, 8> Fields, Inits, VPtrs;
    for (const FieldSchema &F : T.Fields)
      Fields.push_back(field(F));
    for (const FieldSchema &F : T.Inits)
      Inits.push_back(field(F));
    for (const VPtrSchema &V : T.VPtrs)
      VPtrs.push_back(
          MDNode::get(Ctx, {i64(V.Offset), str(V.VTable), i64(V.ByteOffset)}));
    SmallVector<Metadata *, 8> Ops{str(T.Key),
                                   str(T.Name),
                                   i64(T.Size),
                                   i64(T.Align),
                                   MDNode::get(Ctx, Fields),
                                   MDNode::get(Ctx, Inits),
                                   MDNode::get(Ctx, VPtrs)};
    if (!T.RenamedFrom.empty())
      Ops.push_back(str(T.RenamedFrom));
    return MDNode::get(Ctx, Ops);
  }
  MDNode *root(GlobalValue *GV, const FieldSchema &F) {
    SmallVector<Metadata *, 6> Ops{ValueAsMetadata::get(GV), str(F.Name)};
    kindOps(F, Ops);
    return MDNode::get(Ctx, Ops);
  }

private:
  LLVMContext &Ctx;
};

} // namespace

PreservedAnalyses InjectSchemaPass::run(Module &M, ModuleAnalysisManager &) {
  if (M.getNamedMetadata(pass::LoweredMDName) ||
      (S->Types.empty() && S->Roots.empty()))
    return PreservedAnalyses::all();

  MDWriter W(M.getContext());
  if (!S->Types.empty()) {
    NamedMDNode *Types = M.getOrInsertNamedMetadata(pass::TypesMDName);
    for (const TypeSchema &T : S->Types)
      Types->addOperand(W.type(T));
  }
  if (!S->Roots.empty()) {
    NamedMDNode *Roots = M.getOrInsertNamedMetadata(pass::RootsMDName);
    for (const RootSchema &R : S->Roots) {
      GlobalValue *GV = M.getNamedValue(R.Symbol);
      if (!GV) {
        M.getContext().emitError("checksync: root '" + R.Value.Name +
                                 "' (symbol '" + R.Symbol +
                                 "') was not emitted");
        continue;
      }
      Roots->addOperand(W.root(GV, R.Value));
    }
  }
  return PreservedAnalyses::none();
}

} // namespace checksync::plugin
