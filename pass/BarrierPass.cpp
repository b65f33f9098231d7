//===- BarrierPass.cpp - checksync-barriers: card-marking write barriers --===//
//
// WHAT IT DOES
//   The clang plugin attaches an implicit annotate("checksync.field:<key>:<off>")
//   to every checkpointed field of a persistent record, so clang wraps every
//   address of such a field it computes in a call of llvm.ptr.annotation. This
//   pass, run at pipeline start, follows each annotated address through GEPs,
//   casts, phis and selects ("derived" pointers) to the instructions that may
//   write through it, and inserts a write barrier (abi.h, card marking):
//     a. store / atomicrmw / cmpxchg through a derived pointer;
//     b. escapes of a derived pointer: stored as a value, ptrtoint, returned,
//        any use the pass does not understand;
//     c. llvm.memcpy/memmove/memset with a derived destination:
//        checksync_rt_mark_range(dst, len);
//     d. calls and invokes receiving a derived pointer, unless the parameter
//        is provably read-only (readonly/readnone/byval, a non-writing
//        intrinsic, a const member function's `this`, or a `T const&`,
//        `T const*`, `T const&&` parameter in the Itanium mangled name);
//     e. every other mem intrinsic whose destination is not provably a stack
//        slot or a non-root global: checksync_rt_mark_range(dst, len).
//   Each annotation call is then replaced by its pointer operand. Redundant
//   barriers are removed per basic block: a second barrier (or mark_range) on
//   the same underlying object with no call in between other than intrinsics,
//   and barriers on an object allocated earlier in the same block
//   (checksync_rt_new or a checksync.new.* placeholder) with no call since.
//
// THE IR IT INJECTS (once per module; the barrier's body: BarrierRuntime.cpp)
//   @checksync_rt_cards = external global { i64, i64, ptr, ptr, i64 }
//   define internal void @checksync.barrier(ptr nocapture %p)
//       alwaysinline nounwind willreturn { ... abi.h fast path ... }
//   declare preserve_mostcc void @checksync_rt_write_slow(ptr nocapture) cold
//   declare void @checksync_rt_mark_range(ptr nocapture readnone, i64)
//
//===----------------------------------------------------------------------===//
#include "BarrierPass.h"
#include "BarrierRuntime.h"
#include "ReadOnlyArgs.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/Analysis/ValueTracking.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Transforms/Utils/PromoteMemToReg.h"

#include <cstdlib>
#include <string>
#include <vector>

using namespace llvm;
using namespace checksync::pass;

namespace {

StringRef annotationString(Value *V) {
  auto *G = dyn_cast<GlobalVariable>(V->stripPointerCasts());
  if (!G || !G->hasInitializer())
    return {};
  auto *S = dyn_cast<ConstantDataSequential>(G->getInitializer());
  if (!S || !S->isCString())
    return {};
  return S->getAsCString();
}

/// A call of llvm.ptr.annotation carrying a "checksync.field" string.
bool isFieldAnnotation(const Value *V) {
  auto *II = dyn_cast<IntrinsicInst>(V);
  return II && II->getIntrinsicID() == Intrinsic::ptr_annotation &&
         annotationString(II->getArgOperand(1))
             .starts_with(FieldAnnotationPrefix);
}

/// Intrinsics that write no program memory and call no user code.
bool isNonWritingIntrinsic(Intrinsic::ID ID) {
  switch (ID) {
  case Intrinsic::lifetime_start:
  case Intrinsic::lifetime_end:
  case Intrinsic::dbg_declare:
  case Intrinsic::dbg_value:
  case Intrinsic::dbg_label:
  case Intrinsic::dbg_assign:
  case Intrinsic::assume:
  case Intrinsic::invariant_start:
  case Intrinsic::invariant_end:
  case Intrinsic::objectsize:
  case Intrinsic::is_constant:
  case Intrinsic::prefetch:
  case Intrinsic::experimental_noalias_scope_decl:
  case Intrinsic::sideeffect:
  case Intrinsic::var_annotation:
  case Intrinsic::pseudoprobe:
  case Intrinsic::type_test:
  case Intrinsic::public_type_test:
  case Intrinsic::donothing:
  case Intrinsic::expect:
  case Intrinsic::expect_with_probability:
    return true;
  default:
    return false;
  }
}

/// Intrinsics returning (a copy of) their pointer argument 0.
bool isPassThroughIntrinsic(Intrinsic::ID ID) {
  switch (ID) {
  case Intrinsic::ptr_annotation:
  case Intrinsic::launder_invariant_group:
  case Intrinsic::strip_invariant_group:
  case Intrinsic::ssa_copy:
    return true;
  default:
    return false;
  }
}

//===-- The instrumentation -----------------------------------------------===//

struct Point {
  Instruction *At;
  Value *Ptr;
  MemIntrinsic *Mem; ///< mark_range for this intrinsic, else a barrier
};

class Instrumenter {
public:
  Instrumenter(Module &M, BarrierStats &Stats)
      : M(M), Ctx(M.getContext()), Stats(Stats),
        Ptr(PointerType::getUnqual(Ctx)), I64(Type::getInt64Ty(Ctx)) {}

  bool run();

private:
  void analyse(Instruction *Ann);
  void addBarrier(Instruction *At, Value *P) {
    if (PointSet.insert({At, P}).second)
      Points.push_back({At, P, nullptr});
  }
  void addRange(MemIntrinsic *MI) {
    if (RangeDone.insert(MI).second)
      Points.push_back({MI, MI->getRawDest(), MI});
  }
  bool needsRange(MemIntrinsic *MI);
  Function *barrierFn();
  FunctionCallee markRangeFn();
  void emit(const Point &P);
  void eliminate(Function &F);
  bool isAllocation(const CallBase *CB) const;
  bool intervenes(const CallBase *CB) const;

  Module &M;
  LLVMContext &Ctx;
  BarrierStats &Stats;
  PointerType *Ptr;
  IntegerType *I64;
  Function *Barrier = nullptr;
  Function *MarkRange = nullptr;
  DenseSet<const Value *> Roots;

  std::vector<Point> Points;
  DenseSet<std::pair<Instruction *, Value *>> PointSet;
  SmallPtrSet<MemIntrinsic *, 16> RangeDone;
  DenseSet<Value *> Visited;
  SmallPtrSet<Function *, 16> Touched;
};

/// Follows the derived pointers of one annotated address to their writes.
void Instrumenter::analyse(Instruction *Ann) {
  SmallVector<Value *, 16> Work{Ann};
  Visited.insert(Ann);
  auto Follow = [&](Value *V) {
    if (Visited.insert(V).second)
      Work.push_back(V);
  };
  while (!Work.empty()) {
    Value *V = Work.pop_back_val();
    for (Use &U : V->uses()) {
      auto *I = dyn_cast<Instruction>(U.getUser());
      if (!I)
        continue;
      if (isa<GetElementPtrInst, BitCastInst, AddrSpaceCastInst, PHINode,
              SelectInst, FreezeInst>(I)) {
        if (I->getType()->isPointerTy())
          Follow(I);
        continue;
      }
      if (isa<LoadInst, ICmpInst>(I))
        continue;
      // Clang keeps references and pointer locals in stack slots until SROA
      // runs (after this pass): a derived pointer stored into a slot that is
      // only loaded and stored is followed through the slot's loads rather
      // than treated as an escape.
      if (auto *S = dyn_cast<StoreInst>(I); S && U.getOperandNo() == 0)
        if (auto *A = dyn_cast<AllocaInst>(S->getPointerOperand());
            A && !S->isVolatile() && isAllocaPromotable(A)) {
          for (User *AU : A->users())
            if (auto *L = dyn_cast<LoadInst>(AU))
              Follow(L);
          continue;
        }
      if (isa<StoreInst, AtomicRMWInst, AtomicCmpXchgInst, PtrToIntInst,
              ReturnInst>(I)) {
        // (a) written through, or (b) escapes by value.
        addBarrier(I, V);
        continue;
      }
      if (auto *CB = dyn_cast<CallBase>(I)) {
        if (CB->isCallee(&U))
          continue;
        if (!CB->isArgOperand(&U)) {
          addBarrier(I, V); // operand bundle
          continue;
        }
        unsigned ArgNo = CB->getArgOperandNo(&U);
        if (auto *II = dyn_cast<IntrinsicInst>(CB)) {
          Intrinsic::ID ID = II->getIntrinsicID();
          if (isPassThroughIntrinsic(ID) && ArgNo == 0) {
            Follow(II);
            continue;
          }
          if (auto *MI = dyn_cast<MemIntrinsic>(II)) {
            if (ArgNo == 0)
              addRange(MI); // (c)
            continue;
          }
          if (isNonWritingIntrinsic(ID) || II->onlyReadsMemory())
            continue;
          addBarrier(I, V);
          continue;
        }
        if (!argIsReadOnly(CB, ArgNo))
          addBarrier(I, V); // (d)
        continue;
      }
      addBarrier(I, V); // an unknown use: treat as an escape
    }
  }
}

/// (e): the destination is not provably a stack slot or a non-root global.
bool Instrumenter::needsRange(MemIntrinsic *MI) {
  const Value *O = getUnderlyingObject(MI->getRawDest());
  if (isa<AllocaInst>(O))
    return false;
  if (isa<GlobalVariable>(O) && !Roots.contains(O))
    return false;
  return true;
}

Function *Instrumenter::barrierFn() {
  if (!Barrier)
    Barrier = defineBarrier(M);
  return Barrier;
}

FunctionCallee Instrumenter::markRangeFn() {
  auto *FTy = FunctionType::get(Type::getVoidTy(Ctx), {Ptr, I64}, false);
  FunctionCallee C = M.getOrInsertFunction(MarkRangeFnName, FTy);
  if (!MarkRange && (MarkRange = dyn_cast<Function>(C.getCallee()))) {
    MarkRange->addFnAttr(Attribute::NoUnwind);
    MarkRange->addFnAttr(Attribute::WillReturn);
    MarkRange->addParamAttr(0, Attribute::NoCapture);
    MarkRange->addParamAttr(0, Attribute::ReadNone);
  }
  return C;
}

void Instrumenter::emit(const Point &P) {
  Value *V = P.Ptr;
  while (isFieldAnnotation(V)) // about to be replaced by its operand
    V = cast<CallInst>(V)->getArgOperand(0);
  if (!V->getType()->isPointerTy())
    return; // vectors of pointers: not supported
  IRBuilder<> B(P.At);
  if (V->getType()->getPointerAddressSpace() != 0)
    V = B.CreateAddrSpaceCast(V, Ptr);
  CallInst *C;
  if (P.Mem) {
    Value *Len = B.CreateZExtOrTrunc(P.Mem->getLength(), I64);
    C = B.CreateCall(markRangeFn(), {V, Len});
    ++Stats.MarkRanges;
  } else {
    C = B.CreateCall(barrierFn(), {V});
    ++Stats.Barriers;
  }
  C->setDebugLoc(P.At->getDebugLoc());
  Touched.insert(P.At->getFunction());
}

bool Instrumenter::isAllocation(const CallBase *CB) const {
  const Function *F = CB->getCalledFunction();
  return F && (F->getName() == "checksync_rt_new" ||
               F->getName().starts_with("checksync.new."));
}

/// A call that might run user code (and so call checksync::checkpoint()).
bool Instrumenter::intervenes(const CallBase *CB) const {
  const Function *F = CB->getCalledFunction();
  if (F && (F == Barrier || F == MarkRange))
    return false;
  if (auto *II = dyn_cast<IntrinsicInst>(CB)) {
    Intrinsic::ID ID = II->getIntrinsicID();
    return !(isa<MemIntrinsic>(II) || isNonWritingIntrinsic(ID) ||
             isPassThroughIntrinsic(ID) || II->onlyReadsMemory());
  }
  return true;
}

/// Removes barriers made redundant within a basic block.
void Instrumenter::eliminate(Function &F) {
  // Allocas used only as the address of loads and stores: the value a load
  // from them yields is known from the last store in the block.
  DenseMap<const AllocaInst *, bool> SimpleCache;
  auto IsSimple = [&](const AllocaInst *A) {
    auto [It, New] = SimpleCache.try_emplace(A, true);
    if (New)
      for (const Use &U : A->uses()) {
        const User *Usr = U.getUser();
        if (auto *L = dyn_cast<LoadInst>(Usr); L && !L->isVolatile())
          continue;
        if (auto *S = dyn_cast<StoreInst>(Usr);
            S && !S->isVolatile() && U.getOperandNo() == 1)
          continue;
        if (auto *II = dyn_cast<IntrinsicInst>(Usr);
            II && isNonWritingIntrinsic(II->getIntrinsicID()))
          continue;
        It->second = false;
        break;
      }
    return It->second;
  };

  // A fresh allocation made by an invoke counts in its normal destination.
  DenseMap<BasicBlock *, CallBase *> FreshAtEntry;
  for (BasicBlock &BB : F)
    if (auto *II = dyn_cast<InvokeInst>(BB.getTerminator()))
      if (isAllocation(II) && II->getNormalDest()->getSinglePredecessor())
        FreshAtEntry[II->getNormalDest()] = II;

  using Key = std::pair<const Value *, unsigned>; // (object, "loaded from alloca")
  for (BasicBlock &BB : F) {
    DenseMap<const AllocaInst *, Value *> Fwd; // last value stored in BB
    DenseMap<const LoadInst *, Key> LoadKey;   // loads of simple allocas in BB
    DenseSet<Key> Marked, Fresh;
    auto KeyOf = [&](Value *V) -> Key {
      const Value *O = getUnderlyingObject(V);
      if (auto *L = dyn_cast<LoadInst>(O)) {
        auto It = LoadKey.find(L);
        if (It != LoadKey.end())
          return It->second;
      }
      return {O, 0u};
    };
    if (CallBase *CB = FreshAtEntry.lookup(&BB))
      Fresh.insert({CB, 0u});

    for (Instruction &I : make_early_inc_range(BB)) {
      if (auto *L = dyn_cast<LoadInst>(&I)) {
        if (auto *A = dyn_cast<AllocaInst>(L->getPointerOperand());
            A && !L->isVolatile() && IsSimple(A)) {
          auto It = Fwd.find(A);
          LoadKey[L] = It != Fwd.end() ? KeyOf(It->second) : Key{A, 1u};
        }
        continue;
      }
      if (auto *S = dyn_cast<StoreInst>(&I)) {
        if (auto *A = dyn_cast<AllocaInst>(S->getPointerOperand());
            A && IsSimple(A))
          Fwd[A] = S->getValueOperand();
        continue;
      }
      auto *CB = dyn_cast<CallBase>(&I);
      if (!CB)
        continue;
      Function *Callee = CB->getCalledFunction();
      if (Callee && Barrier && Callee == Barrier) {
        Key K = KeyOf(CB->getArgOperand(0));
        if (Marked.contains(K) || Fresh.contains(K)) {
          CB->eraseFromParent();
          ++Stats.Removed;
        } else {
          Marked.insert(K);
        }
        continue;
      }
      if (Callee && MarkRange && Callee == MarkRange) {
        Key K = KeyOf(CB->getArgOperand(0));
        if (Marked.contains(K) || Fresh.contains(K)) {
          CB->eraseFromParent();
          ++Stats.Removed;
        }
        continue;
      }
      if (!intervenes(CB))
        continue;
      Marked.clear();
      Fresh.clear();
      if (isAllocation(CB) && isa<CallInst>(CB))
        Fresh.insert({CB, 0u});
    }
  }
}

bool Instrumenter::run() {
  if (NamedMDNode *R = M.getNamedMetadata("checksync.roots"))
    for (const MDNode *N : R->operands())
      if (N->getNumOperands() > 0)
        if (auto *G = mdconst::dyn_extract_or_null<GlobalValue>(N->getOperand(0)))
          Roots.insert(G);
  if (Function *F = M.getFunction(MarkRangeFnName))
    MarkRange = F;

  // The annotation calls.
  std::vector<CallInst *> Anns;
  for (Function &F : M)
    if (F.getIntrinsicID() == Intrinsic::ptr_annotation)
      for (User *U : F.users())
        if (auto *CI = dyn_cast<CallInst>(U); CI && isFieldAnnotation(CI))
          Anns.push_back(CI);
  Stats.Annotations = Anns.size();

  // (a)-(d) from each annotated address.
  for (CallInst *CI : Anns)
    if (!Visited.contains(CI))
      analyse(CI);

  // (e) every other mem intrinsic.
  for (Function &F : M) {
    if (F.isDeclaration() || &F == Barrier)
      continue;
    for (Instruction &I : instructions(F))
      if (auto *MI = dyn_cast<MemIntrinsic>(&I))
        if (!RangeDone.contains(MI) && needsRange(MI))
          addRange(MI);
  }

  for (const Point &P : Points)
    emit(P);

  for (CallInst *CI : Anns) {
    Touched.insert(CI->getFunction());
    CI->replaceAllUsesWith(CI->getArgOperand(0));
    CI->eraseFromParent();
  }
  for (Function &F : make_early_inc_range(M.functions()))
    if (F.getIntrinsicID() == Intrinsic::ptr_annotation && F.use_empty())
      F.eraseFromParent();
  for (GlobalVariable &G : make_early_inc_range(M.globals()))
    if (G.hasLocalLinkage() && G.getSection() == "llvm.metadata" &&
        annotationString(&G).starts_with(FieldAnnotationPrefix)) {
      G.removeDeadConstantUsers();
      if (G.use_empty())
        G.eraseFromParent();
    }

  for (Function *F : Touched)
    eliminate(*F);
  return !Anns.empty() || !Points.empty();
}

} // namespace

bool checksync::pass::hasFieldAnnotations(Module &M) {
  for (Function &F : M)
    if (F.getIntrinsicID() == Intrinsic::ptr_annotation)
      for (User *U : F.users())
        if (isFieldAnnotation(U))
          return true;
  return false;
}

bool checksync::pass::insertBarriers(Module &M, BarrierStats &Stats) {
  if (M.getNamedMetadata(BarriersMDName))
    return false;
  // A module with nothing to instrument is left unchanged (and unmarked: a
  // second run finds nothing either).
  bool Changed = Instrumenter(M, Stats).run();
  if (Changed) {
    LLVMContext &Ctx = M.getContext();
    M.getOrInsertNamedMetadata(BarriersMDName)
        ->addOperand(MDNode::get(Ctx, MDString::get(Ctx, "v1")));
  }
  if (const char *E = std::getenv("CHECKSYNC_BARRIER_STATS"); E && *E)
    errs() << "checksync-barriers: " << M.getModuleIdentifier() << ": "
           << Stats.Annotations << " annotations, " << Stats.Barriers
           << " barriers, " << Stats.MarkRanges << " mark_range, "
           << Stats.Removed << " removed\n";
  return Changed;
}

PreservedAnalyses BarrierPass::run(Module &M, ModuleAnalysisManager &) {
  BarrierStats Stats;
  if (!insertBarriers(M, Stats))
    return PreservedAnalyses::all();
  return PreservedAnalyses::none();
}
