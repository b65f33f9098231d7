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
//        Library-typed ("codec") fields point at the plugin-instantiated
//        `checksync::codec::entry<T>` constant; transient fields that need
//        construction go into the type's `inits` array (pointing at
//        `transient_entry<T>`); polymorphic types get a `vptrs` array of
//        {offset, vtable address point};
//     2. the root table and a `checksync_module_desc` (@checksync.module,
//        abi_version CHECKSYNC_ABI_VERSION);
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
//   A placeholder whose key has no type in the metadata is a fatal error, and
//   so is a codec field whose `checksync::codec::entry<T>` global is missing.
//   Types referenced only as ref/record targets need not be in the module:
//   the runtime resolves keys across translation units.
//
// THE IR IT PRODUCES (one type "4Node", one root @head)
//   %checksync.field_desc  = type { ptr, i64, i32, i32, i64, ptr, ptr }
//   %checksync.vptr_desc   = type { i64, ptr }
//   %checksync.type_desc   = type { ptr, ptr, i64, i64, i64, ptr, i64, ptr, i64, ptr }
//   %checksync.root_desc   = type { ptr, %checksync.field_desc }
//   %checksync.module_desc = type { i64, i64, ptr, i64, ptr }
//   @checksync.fields.4Node = private unnamed_addr constant [2 x %checksync.field_desc] ...
//   @checksync.types  = private constant [1 x %checksync.type_desc] ...
//   @checksync.roots  = private constant [1 x %checksync.root_desc] [{ ptr @head, ... }]
//   @checksync.module = private constant %checksync.module_desc { i64 3, i64 1, ... }
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

#include "checksync/abi.h"
#include "BarrierPass.h"
#include "SchemaMetadata.h"

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

/// The runtime checks it against its own (registry.cpp).
constexpr uint64_t AbiVersion = CHECKSYNC_ABI_VERSION;

//===-- Emitting descriptors ----------------------------------------------===//

class Lowering {
public:
  explicit Lowering(Module &M)
      : M(M), Ctx(M.getContext()), Ptr(PointerType::getUnqual(Ctx)),
        I32(Type::getInt32Ty(Ctx)), I64(Type::getInt64Ty(Ctx)) {
    FieldTy = namedStruct("checksync.field_desc",
                          {Ptr, I64, I32, I32, I64, Ptr, Ptr, Ptr, Ptr, I64, I64});
    VPtrTy = namedStruct("checksync.vptr_desc", {I64, Ptr});
    TypeTy =
        namedStruct("checksync.type_desc", {Ptr, Ptr, I64, I64, I64, Ptr, I64, Ptr, I64, Ptr, Ptr});
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
  Constant *field(const FieldInfo &F, const Twine &Owner);
  Constant *codecEntry(const FieldInfo &F, const Twine &Owner);
  Constant *vptr(const VPtrInfo &V);
  Constant *array(StringRef Name, Type *ElemTy, ArrayRef<Constant *> Elems);
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
  StructType *FieldTy, *VPtrTy, *TypeTy, *RootTy, *ModuleTy;
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

Constant *Lowering::codecEntry(const FieldInfo &F, const Twine &Owner) {
  if (F.Codec.empty())
    return Constant::getNullValue(Ptr);
  GlobalValue *GV = M.getNamedValue(F.Codec);
  if (!GV)
    fail("codec entry '" + F.Codec + "' of " + Owner + " field '" + F.Name +
         "' is not in the module (the clang plugin instantiates "
         "checksync::codec::entry<T> from <checksync/codec.h>)");
  return GV;
}

Constant *Lowering::field(const FieldInfo &F, const Twine &Owner) {
  Constant *Target = F.Target.empty() ? Constant::getNullValue(Ptr)
                                      : str(F.Target);
  return ConstantStruct::get(
      FieldTy, {str(F.Name), ConstantInt::get(I64, F.Offset), ConstantInt::get(I32, F.Kind),
                ConstantInt::get(I32, F.ElemSize), ConstantInt::get(I64, F.Count), Target,
                codecEntry(F, Owner),
                F.RenamedFrom.empty() ? Constant::getNullValue(Ptr) : str(F.RenamedFrom),
                F.Default.empty() ? Constant::getNullValue(Ptr) : str(F.Default),
                ConstantInt::get(I64, F.Default.size()), ConstantInt::get(I64, F.Flags)});
}

/// {offset, @vtable + byte offset}. The vtable may be defined in another
/// translation unit (key function): then it is declared here.
Constant *Lowering::vptr(const VPtrInfo &V) {
  GlobalValue *VT = M.getNamedValue(V.VTable);
  if (!VT)
    VT = new GlobalVariable(M, ArrayType::get(Ptr, 0), /*isConstant=*/true,
                            GlobalValue::ExternalLinkage, nullptr, V.VTable);
  Constant *AddrPoint = ConstantExpr::getGetElementPtr(
      Type::getInt8Ty(Ctx), VT, ConstantInt::get(I64, V.ByteOffset));
  return ConstantStruct::get(VPtrTy,
                             {ConstantInt::get(I64, V.Offset), AddrPoint});
}

/// A private constant array, or null when there are no elements.
Constant *Lowering::array(StringRef Name, Type *ElemTy,
                          ArrayRef<Constant *> Elems) {
  if (Elems.empty())
    return Constant::getNullValue(Ptr);
  return constArray(Name, ElemTy, Elems, /*UnnamedAddr=*/true);
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
    std::string Owner = "type '" + T.Key + "'";
    std::vector<Constant *> Fields, Inits, VPtrs;
    for (const FieldInfo &F : T.Fields)
      Fields.push_back(field(F, Owner));
    for (const FieldInfo &F : T.Inits)
      Inits.push_back(field(F, Owner + " transient"));
    for (const VPtrInfo &V : T.VPtrs)
      VPtrs.push_back(vptr(V));
    Constant *FieldArray = array("checksync.fields." + T.Key, FieldTy, Fields);
    Constant *InitArray = array("checksync.inits." + T.Key, FieldTy, Inits);
    Constant *VPtrArray = array("checksync.vptrs." + T.Key, VPtrTy, VPtrs);
    Descs.push_back(ConstantStruct::get(
        TypeTy,
        {str(T.Key), str(T.Name), ConstantInt::get(I64, T.Size), ConstantInt::get(I64, T.Align),
         ConstantInt::get(I64, Fields.size()), FieldArray, ConstantInt::get(I64, Inits.size()),
         InitArray, ConstantInt::get(I64, VPtrs.size()), VPtrArray,
         T.RenamedFrom.empty() ? Constant::getNullValue(Ptr) : str(T.RenamedFrom)}));
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
      Elems.push_back(
          ConstantStruct::get(RootTy, {R.Address, field(R.Field, "root")}));
    RootArray = constArray("checksync.roots", RootTy, Elems,
                           /*UnnamedAddr=*/false);
  }
  Constant *Types =
      TypeArray ? cast<Constant>(TypeArray) : Constant::getNullValue(Ptr);
  auto *Init = ConstantStruct::get(
      ModuleTy, {ConstantInt::get(I64, AbiVersion), ConstantInt::get(I64, NumTypes),
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

namespace {
// Replaces every call of the uninstrumented-TU probe with 0.
bool removeUninstrumentedProbe(Module &M) {
  Function *F = M.getFunction(UninstrumentedProbeName);
  if (!F)
    return false;
  for (User *U : make_early_inc_range(F->users()))
    if (auto *CB = dyn_cast<CallBase>(U)) {
      CB->replaceAllUsesWith(Constant::getNullValue(CB->getType()));
      CB->eraseFromParent();
    }
  if (F->use_empty())
    F->eraseFromParent();
  return true;
}
} // namespace

namespace {
// The global operator delete family (Itanium names). Calls to them from an
// instrumented unit go to the runtime's checksync_rt_<name>, which returns a
// persistent object to its heap and passes anything else to the program's
// real operator delete (libstdc++'s, or a sanitizer's: so -fsanitize=thread
// and =address work, where the runtime's own replacement of the global
// operator delete must give way to theirs).
constexpr llvm::StringLiteral DeleteFns[] = {
    "_ZdlPv",   "_ZdaPv",   "_ZdlPvm",   "_ZdaPvm",   "_ZdlPvRKSt9nothrow_t",
    "_ZdaPvRKSt9nothrow_t", "_ZdlPvSt11align_val_t", "_ZdaPvSt11align_val_t",
    "_ZdlPvmSt11align_val_t", "_ZdaPvmSt11align_val_t",
    "_ZdlPvSt11align_val_tRKSt9nothrow_t", "_ZdaPvSt11align_val_tRKSt9nothrow_t"};

bool redirectDeletes(Module &M) {
  bool Changed = false;
  for (llvm::StringRef Name : DeleteFns) {
    Function *F = M.getFunction(Name);
    if (!F || !F->isDeclaration() || F->use_empty())
      continue;
    FunctionCallee R =
        M.getOrInsertFunction(("checksync_rt" + Name).str(), F->getFunctionType());
    F->replaceAllUsesWith(R.getCallee());
    Changed = true;
  }
  return Changed;
}
} // namespace

PreservedAnalyses LowerPass::run(Module &M, ModuleAnalysisManager &) {
  if (M.getNamedMetadata(LoweredMDName))
    return PreservedAnalyses::all();
  NamedMDNode *Types = M.getNamedMetadata(TypesMDName);
  NamedMDNode *Roots = M.getNamedMetadata(RootsMDName);
  // checksync.h calls the probe from every translation unit; deleting it here
  // leaves the runtime hearing only from units compiled without the plugin.
  bool Probe = false;
  if (!OnlyIfSchema || Types || Roots)
    Probe = removeUninstrumentedProbe(M);
  // Write barriers first (they read the field annotations and the roots);
  // a no-op when checksync-barriers already ran. Only as part of the
  // `checksync` pipeline: checksync-lower alone never inserts them.
  bool Barriers = false;
  if (WithBarriers && (!OnlyIfSchema || Types || Roots || hasFieldAnnotations(M))) {
    BarrierStats Stats;
    Barriers = insertBarriers(M, Stats);
  } else if (!WithBarriers && hasFieldAnnotations(M)) {
    M.getContext().emitError(
        "checksync-lower: " + M.getModuleIdentifier() +
        " has persistent-field annotations that no barrier pass processed; lowering "
        "would drop them and the writes they mark: run -passes=checksync-barriers,"
        "checksync-lower (or -passes=checksync)");
    return PreservedAnalyses::all();
  }
  PreservedAnalyses Unchanged =
      Barriers || Probe ? PreservedAnalyses::none() : PreservedAnalyses::all();
  if (OnlyIfSchema && !Types && !Roots)
    return Unchanged;
  if (redirectDeletes(M))
    Unchanged = PreservedAnalyses::none();

  std::vector<Function *> NewFns;
  for (Function &F : M)
    if (F.getName().starts_with(NewFnPrefix))
      NewFns.push_back(&F);
  if (!Types && !Roots && NewFns.empty())
    return Unchanged;

  Lowering(M).run(Types, Roots, NewFns);

  if (Types)
    Types->eraseFromParent();
  if (Roots)
    Roots->eraseFromParent();
  LLVMContext &Ctx = M.getContext();
  M.getOrInsertNamedMetadata(LoweredMDName)
      ->addOperand(MDNode::get(Ctx, MDString::get(Ctx, "v2")));
  return PreservedAnalyses::none();
}
