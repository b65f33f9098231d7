//===- LowerPass.cpp - checksync-lower: schema and allocation lowering ---===//
//
// WHAT IT DOES
//   The CheckSync clang plugin leaves two things in the IR of a translation
//   unit that uses [[checksync::persistent]] types:
//     * named metadata !checksync.types / !checksync.roots describing every
//       persistent type (size, alignment, fields) and every root variable;
//     * calls to placeholder allocation functions `ptr @"checksync.new.<key>"
//       (i64 size)`, one per persistent type, where the source said `new T`.
//   This pass turns them into what the runtime (include/checksync/abi.h)
//   consumes:
//     1. one `checksync_type_desc` per type (private constants, addressable as
//        @"checksync.type.<key>"), their field arrays and name strings;
//     2. the root table and a `checksync_module_desc` (@checksync.module,
//        abi_version 1);
//     3. every call/invoke of @"checksync.new.<key>"(size) becomes
//        `call noalias nonnull ptr @checksync_rt_new(ptr @"checksync.type.<key>",
//        i64 size)`; the placeholder declarations are erased;
//     4. an internal constructor @checksync.register, in llvm.global_ctors at
//        priority 101, calls @checksync_rt_register_module(@checksync.module);
//     5. the plugin's "checksync.*" annotations (llvm.ptr.annotation calls on
//        transient fields, llvm.global.annotations entries of roots) are
//        removed, so they do not block optimisation;
//     6. the schema metadata is dropped and !checksync.lowered added: running
//        the pass again does nothing.
//   A placeholder whose key has no type in the metadata is a fatal error.
//   Types referenced only as ref/record targets need not be in the module:
//   the runtime resolves keys across translation units.
//
// THE IR IT PRODUCES (one type "4Node", one root @head)
//   %checksync.field_desc  = type { ptr, i64, i32, i32, i64, ptr }
//   %checksync.type_desc   = type { ptr, ptr, i64, i64, i64, ptr }
//   %checksync.root_desc   = type { ptr, %checksync.field_desc }
//   %checksync.module_desc = type { i64, i64, ptr, i64, ptr }
//   @checksync.fields.4Node = private unnamed_addr constant [2 x %checksync.field_desc] ...
//   @checksync.types  = private constant [1 x %checksync.type_desc] ...
//   @checksync.roots  = private constant [1 x %checksync.root_desc] [{ ptr @head, ... }]
//   @checksync.module = private constant %checksync.module_desc { i64 1, i64 1, ... }
//   @checksync.type.4Node = private alias %checksync.type_desc, ptr @checksync.types
//   define internal void @checksync.register() {
//     call void @checksync_rt_register_module(ptr @checksync.module)
//     ret void }
//
// HOW TO RUN IT
//   Automatically: clang++ -fplugin=checksync.so (the plugin registers it at
//   pipeline start, at every optimisation level).
//   Standalone:    opt -load-pass-plugin=CheckSyncPass.so \
//                      -passes=checksync-lower -S in.ll
//
//===----------------------------------------------------------------------===//
#include "LowerPass.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/Metadata.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Transforms/Utils/ModuleUtils.h"

#include <string>
#include <vector>

using namespace llvm;
using namespace checksync::pass;

namespace {

/// Kind values from enum checksync_field_kind (abi.h).
std::optional<unsigned> kindValue(StringRef Kind) {
  return StringSwitch<std::optional<unsigned>>(Kind)
      .Case("int", 1)
      .Case("uint", 2)
      .Case("float", 3)
      .Case("bytes", 4)
      .Case("ref", 5)
      .Case("record", 6)
      .Default(std::nullopt);
}

struct FieldInfo {
  std::string Name;
  uint64_t Offset = 0;
  unsigned Kind = 0;
  uint64_t ElemSize = 0;
  uint64_t Count = 0;
  std::string Target;
};

struct TypeInfo {
  std::string Key, Name;
  uint64_t Size = 0, Align = 0;
  std::vector<FieldInfo> Fields;
};

struct RootInfo {
  GlobalValue *Address = nullptr;
  FieldInfo Field;
};

[[noreturn]] void fail(const Twine &Msg) {
  report_fatal_error("checksync-lower: " + Msg, /*gen_crash_diag=*/false);
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

/// Reads {kind, elem_size, count, target} starting at operand \p First.
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
}

// !{!"key", !"qualified name", i64 size, i64 align, !{fields...}}
// field: !{!"name", i64 offset, !"kind", i64 elem_size, i64 count, !"target"}
TypeInfo readType(const MDNode *N) {
  TypeInfo T;
  T.Key = mdString(N, 0, "checksync.types entry").str();
  std::string What = "type '" + T.Key + "'";
  T.Name = mdString(N, 1, What).str();
  T.Size = mdInt(N, 2, What);
  T.Align = mdInt(N, 3, What);
  auto *Fields = N->getNumOperands() > 4
                     ? dyn_cast_or_null<MDNode>(N->getOperand(4))
                     : nullptr;
  if (!Fields)
    fail("malformed " + What + ": operand 4 is not a field list");
  for (const MDOperand &Op : Fields->operands()) {
    auto *FN = dyn_cast_or_null<MDNode>(Op);
    if (!FN)
      fail("malformed " + What + ": field is not a node");
    FieldInfo F;
    F.Name = mdString(FN, 0, What).str();
    F.Offset = mdInt(FN, 1, What);
    readKind(FN, 2, F, What + " field '" + F.Name + "'");
    T.Fields.push_back(std::move(F));
  }
  llvm::stable_sort(T.Fields, [](const FieldInfo &A, const FieldInfo &B) {
    return A.Offset < B.Offset;
  });
  return T;
}

// !{ptr @global, !"qualified name", !"kind", i64 elem_size, i64 count,
//   !"target"}; the operand is null if the global was deleted.
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

//===-- Emitting descriptors ----------------------------------------------===//

class Lowering {
public:
  explicit Lowering(Module &M)
      : M(M), Ctx(M.getContext()), Ptr(PointerType::getUnqual(Ctx)),
        I32(Type::getInt32Ty(Ctx)), I64(Type::getInt64Ty(Ctx)) {
    FieldTy = namedStruct("checksync.field_desc",
                          {Ptr, I64, I32, I32, I64, Ptr});
    TypeTy = namedStruct("checksync.type_desc", {Ptr, Ptr, I64, I64, I64, Ptr});
    RootTy = namedStruct("checksync.root_desc", {Ptr, FieldTy});
    ModuleTy =
        namedStruct("checksync.module_desc", {I64, I64, Ptr, I64, Ptr});
  }

  void run(NamedMDNode *Types, NamedMDNode *Roots,
           ArrayRef<Function *> NewFns);

private:
  StructType *namedStruct(StringRef Name, ArrayRef<Type *> Elems) {
    if (StructType *T = StructType::getTypeByName(Ctx, Name))
      return T;
    return StructType::create(Ctx, Elems, Name);
  }
  Constant *str(StringRef S);
  Constant *field(const FieldInfo &F);
  GlobalVariable *constArray(StringRef Name, Type *ElemTy,
                             ArrayRef<Constant *> Elems, bool UnnamedAddr);
  void emitTypes(ArrayRef<TypeInfo> Types);
  GlobalVariable *emitModule(ArrayRef<RootInfo> Roots, size_t NumTypes);
  void emitRegistration(GlobalVariable *ModuleDesc);
  void lowerNew(Function *F);

  Module &M;
  LLVMContext &Ctx;
  PointerType *Ptr;
  IntegerType *I32, *I64;
  StructType *FieldTy, *TypeTy, *RootTy, *ModuleTy;
  StringMap<Constant *> Strings;
  GlobalVariable *TypeArray = nullptr;
  StringMap<Constant *> TypeDescs; // key -> @checksync.type.<key>
};

Constant *Lowering::str(StringRef S) {
  Constant *&GV = Strings[S];
  if (!GV) {
    auto *Init = ConstantDataArray::getString(Ctx, S);
    auto *G = new GlobalVariable(M, Init->getType(), /*isConstant=*/true,
                                 GlobalValue::PrivateLinkage, Init,
                                 "checksync.str");
    G->setUnnamedAddr(GlobalValue::UnnamedAddr::Global);
    G->setAlignment(Align(1));
    GV = G;
  }
  return GV;
}

Constant *Lowering::field(const FieldInfo &F) {
  Constant *Target = F.Target.empty() ? Constant::getNullValue(Ptr)
                                      : str(F.Target);
  return ConstantStruct::get(
      FieldTy, {str(F.Name), ConstantInt::get(I64, F.Offset),
                ConstantInt::get(I32, F.Kind),
                ConstantInt::get(I32, F.ElemSize),
                ConstantInt::get(I64, F.Count), Target});
}

GlobalVariable *Lowering::constArray(StringRef Name, Type *ElemTy,
                                     ArrayRef<Constant *> Elems,
                                     bool UnnamedAddr) {
  auto *ArrTy = ArrayType::get(ElemTy, Elems.size());
  auto *G = new GlobalVariable(M, ArrTy, /*isConstant=*/true,
                               GlobalValue::PrivateLinkage,
                               ConstantArray::get(ArrTy, Elems), Name);
  if (UnnamedAddr)
    G->setUnnamedAddr(GlobalValue::UnnamedAddr::Global);
  G->setAlignment(Align(8));
  return G;
}

void Lowering::emitTypes(ArrayRef<TypeInfo> Types) {
  if (Types.empty())
    return;
  std::vector<Constant *> Descs;
  for (const TypeInfo &T : Types) {
    std::vector<Constant *> Fields;
    for (const FieldInfo &F : T.Fields)
      Fields.push_back(field(F));
    Constant *FieldArray = Constant::getNullValue(Ptr);
    if (!Fields.empty())
      FieldArray = constArray("checksync.fields." + T.Key, FieldTy, Fields,
                              /*UnnamedAddr=*/true);
    Descs.push_back(ConstantStruct::get(
        TypeTy, {str(T.Key), str(T.Name), ConstantInt::get(I64, T.Size),
                 ConstantInt::get(I64, T.Align),
                 ConstantInt::get(I64, T.Fields.size()), FieldArray}));
  }
  // The module descriptor needs the types contiguous; each one is also
  // reachable by name through a private alias.
  TypeArray = constArray("checksync.types", TypeTy, Descs,
                         /*UnnamedAddr=*/false);
  for (auto [I, T] : llvm::enumerate(Types)) {
    Constant *Addr = ConstantExpr::getInBoundsGetElementPtr(
        TypeArray->getValueType(), TypeArray,
        ArrayRef<Constant *>{ConstantInt::get(I64, 0), ConstantInt::get(I64, I)});
    TypeDescs[T.Key] = GlobalAlias::create(TypeTy, 0, GlobalValue::PrivateLinkage,
                                           "checksync.type." + T.Key, Addr, &M);
  }
}

GlobalVariable *Lowering::emitModule(ArrayRef<RootInfo> Roots,
                                     size_t NumTypes) {
  Constant *RootArray = Constant::getNullValue(Ptr);
  if (!Roots.empty()) {
    std::vector<Constant *> Elems;
    for (const RootInfo &R : Roots)
      Elems.push_back(ConstantStruct::get(RootTy, {R.Address, field(R.Field)}));
    RootArray = constArray("checksync.roots", RootTy, Elems,
                           /*UnnamedAddr=*/false);
  }
  Constant *Types =
      TypeArray ? cast<Constant>(TypeArray) : Constant::getNullValue(Ptr);
  auto *Init = ConstantStruct::get(
      ModuleTy, {ConstantInt::get(I64, 1), ConstantInt::get(I64, NumTypes),
                 Types, ConstantInt::get(I64, Roots.size()), RootArray});
  auto *G = new GlobalVariable(M, ModuleTy, /*isConstant=*/true,
                               GlobalValue::PrivateLinkage, Init,
                               "checksync.module");
  G->setAlignment(Align(8));
  return G;
}

void Lowering::emitRegistration(GlobalVariable *ModuleDesc) {
  auto *VoidTy = Type::getVoidTy(Ctx);
  FunctionCallee Register = M.getOrInsertFunction(
      "checksync_rt_register_module", FunctionType::get(VoidTy, {Ptr}, false));
  auto *Ctor = Function::Create(FunctionType::get(VoidTy, false),
                                GlobalValue::InternalLinkage,
                                "checksync.register", M);
  Ctor->addFnAttr(Attribute::NoUnwind);
  IRBuilder<> B(BasicBlock::Create(Ctx, "entry", Ctor));
  B.CreateCall(Register, {ModuleDesc});
  B.CreateRetVoid();
  // 101: before ordinary dynamic initialisers (default priority 65535), so a
  // global constructor that allocates persistent objects finds its types.
  appendToGlobalCtors(M, Ctor, 101);
}

void Lowering::lowerNew(Function *F) {
  StringRef Key = F->getName().drop_front(NewFnPrefix.size());
  Constant *Desc = TypeDescs.lookup(Key);
  if (!Desc)
    fail("'" + F->getName() + "' allocates type key '" + Key +
         "' but the module's !checksync.types has no such type (was the "
         "type's definition compiled with the checksync plugin?)");

  FunctionType *RtNewTy = FunctionType::get(Ptr, {Ptr, I64}, false);
  FunctionCallee RtNew = M.getOrInsertFunction("checksync_rt_new", RtNewTy);
  if (auto *RtFn = dyn_cast<Function>(RtNew.getCallee())) {
    RtFn->addRetAttr(Attribute::NoAlias);
    RtFn->addRetAttr(Attribute::NonNull);
    RtFn->addFnAttr(Attribute::NoUnwind);
    RtFn->addFnAttr(Attribute::getWithAllocSizeArgs(Ctx, 1, std::nullopt));
  }

  for (User *U : make_early_inc_range(F->users())) {
    auto *CB = dyn_cast<CallBase>(U);
    if (!CB || CB->getCalledOperand() != F)
      fail("'" + F->getName() + "' is used other than as a call's callee");
    // (i64 size) or, for over-aligned types, (i64 size, i64 align): the
    // descriptor carries the alignment, so the second argument is dropped.
    if (CB->arg_size() < 1 || CB->arg_size() > 2 ||
        !CB->getArgOperand(0)->getType()->isIntegerTy(64))
      fail("call of '" + F->getName() + "' must take an i64 size (and an alignment)");
    IRBuilder<> B(CB);
    Value *Args[] = {Desc, CB->getArgOperand(0)};
    CallBase *New;
    if (auto *II = dyn_cast<InvokeInst>(CB))
      New = B.CreateInvoke(RtNew, II->getNormalDest(), II->getUnwindDest(),
                           Args);
    else
      New = B.CreateCall(RtNew, Args);
    New->takeName(CB);
    New->setDebugLoc(CB->getDebugLoc());
    New->addRetAttr(Attribute::NoAlias);
    New->addRetAttr(Attribute::NonNull);
    New->addFnAttr(Attribute::getWithAllocSizeArgs(Ctx, 1, std::nullopt));
    CB->replaceAllUsesWith(New);
    CB->eraseFromParent();
  }
  F->eraseFromParent();
}

//===-- Removing the plugin's annotations ---------------------------------===//

bool isCheckSyncAnnotation(Value *V) {
  auto *G = dyn_cast<GlobalVariable>(V->stripPointerCasts());
  if (!G || !G->hasInitializer())
    return false;
  auto *S = dyn_cast<ConstantDataSequential>(G->getInitializer());
  return S && S->isCString() && S->getAsCString().starts_with("checksync.");
}

void stripAnnotations(Module &M) {
  for (Function &F : make_early_inc_range(M.functions())) {
    Intrinsic::ID ID = F.getIntrinsicID();
    if (ID != Intrinsic::ptr_annotation && ID != Intrinsic::var_annotation)
      continue;
    for (User *U : make_early_inc_range(F.users())) {
      auto *CI = dyn_cast<CallInst>(U);
      if (!CI || !isCheckSyncAnnotation(CI->getArgOperand(1)))
        continue;
      if (ID == Intrinsic::ptr_annotation)
        CI->replaceAllUsesWith(CI->getArgOperand(0));
      CI->eraseFromParent();
    }
    if (F.use_empty())
      F.eraseFromParent();
  }

  if (GlobalVariable *GA = M.getGlobalVariable("llvm.global.annotations")) {
    auto *Arr = dyn_cast<ConstantArray>(GA->getInitializer());
    if (Arr) {
      std::vector<Constant *> Keep;
      for (Use &Op : Arr->operands()) {
        auto *Entry = cast<Constant>(Op.get());
        if (Entry->getNumOperands() < 2 ||
            !isCheckSyncAnnotation(Entry->getOperand(1)))
          Keep.push_back(Entry);
      }
      if (Keep.size() != Arr->getNumOperands()) {
        if (Keep.empty()) {
          GA->eraseFromParent();
        } else {
          auto *Ty = ArrayType::get(Arr->getType()->getElementType(),
                                    Keep.size());
          auto *NewGA = new GlobalVariable(
              M, Ty, GA->isConstant(), GA->getLinkage(),
              ConstantArray::get(Ty, Keep), "", GA, GA->getThreadLocalMode());
          NewGA->setSection(GA->getSection());
          NewGA->takeName(GA);
          GA->eraseFromParent();
        }
      }
    }
  }

  // The annotation strings (and file names) now unreferenced.
  for (GlobalVariable &G : make_early_inc_range(M.globals()))
    if (G.hasLocalLinkage() && G.getSection() == "llvm.metadata") {
      G.removeDeadConstantUsers();
      if (G.use_empty())
        G.eraseFromParent();
    }
}

void Lowering::run(NamedMDNode *TypesMD, NamedMDNode *RootsMD,
                   ArrayRef<Function *> NewFns) {
  // Types, deduplicated by key (linked modules may repeat one).
  std::vector<TypeInfo> TypeList;
  StringSet<> Keys;
  if (TypesMD)
    for (const MDNode *N : TypesMD->operands()) {
      TypeInfo T = readType(N);
      if (Keys.insert(T.Key).second)
        TypeList.push_back(std::move(T));
    }

  std::vector<RootInfo> Roots;
  if (RootsMD)
    for (const MDNode *N : RootsMD->operands())
      if (std::optional<RootInfo> R = readRoot(N))
        Roots.push_back(std::move(*R));

  emitTypes(TypeList);
  for (Function *F : NewFns)
    lowerNew(F);
  if (!TypeList.empty() || !Roots.empty())
    emitRegistration(emitModule(Roots, TypeList.size()));
  stripAnnotations(M);
}

} // namespace

PreservedAnalyses LowerPass::run(Module &M, ModuleAnalysisManager &) {
  if (M.getNamedMetadata(LoweredMDName))
    return PreservedAnalyses::all();
  NamedMDNode *Types = M.getNamedMetadata(TypesMDName);
  NamedMDNode *Roots = M.getNamedMetadata(RootsMDName);
  if (OnlyIfSchema && !Types && !Roots)
    return PreservedAnalyses::all();

  std::vector<Function *> NewFns;
  for (Function &F : M)
    if (F.getName().starts_with(NewFnPrefix))
      NewFns.push_back(&F);
  if (!Types && !Roots && NewFns.empty())
    return PreservedAnalyses::all();

  Lowering(M).run(Types, Roots, NewFns);

  if (Types)
    Types->eraseFromParent();
  if (Roots)
    Roots->eraseFromParent();
  LLVMContext &Ctx = M.getContext();
  M.getOrInsertNamedMetadata(LoweredMDName)
      ->addOperand(MDNode::get(Ctx, MDString::get(Ctx, "v1")));
  return PreservedAnalyses::none();
}
