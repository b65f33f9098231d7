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
// THE IR IT INJECTS (once per module)
//   @checksync_rt_cards = external global { i64, i64, ptr, ptr, i64 }
//   define internal void @checksync.barrier(ptr nocapture %p)
//       alwaysinline nounwind willreturn { ... abi.h fast path ... }
//   declare void @checksync_rt_write_slow(ptr nocapture) cold
//   declare void @checksync_rt_mark_range(ptr nocapture readnone, i64)
//
//===----------------------------------------------------------------------===//
#include "BarrierPass.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Analysis/ValueTracking.h"
#include "llvm/Demangle/Demangle.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/MDBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Transforms/Utils/PromoteMemToReg.h"

#include <cstdlib>
#include <string>
#include <vector>

using namespace llvm;
using namespace checksync::pass;

namespace {

constexpr unsigned CardShift = 6;  // CHECKSYNC_CARD_SHIFT
constexpr unsigned PageShift = 12; // CHECKSYNC_PAGE_SHIFT
constexpr unsigned InFlightBit = 2; // CHECKSYNC_CARD_IN_FLIGHT

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

//===-- Read-only parameters from Itanium mangled names -------------------===//

/// Splits "(A, B<C, D>, E)" at top-level commas.
std::vector<std::string> splitParams(StringRef S) {
  std::vector<std::string> Out;
  S = S.trim();
  if (!S.consume_front("(") || !S.consume_back(")"))
    return Out;
  int Depth = 0;
  size_t Start = 0;
  for (size_t I = 0; I < S.size(); ++I) {
    char C = S[I];
    if (C == '<' || C == '(' || C == '[')
      ++Depth;
    else if (C == '>' || C == ')' || C == ']')
      --Depth;
    else if (C == ',' && Depth == 0) {
      Out.push_back(S.slice(Start, I).trim().str());
      Start = I + 1;
    }
  }
  if (!S.trim().empty())
    Out.push_back(S.drop_front(Start).trim().str());
  return Out;
}

/// True if a parameter of this demangled type occupies exactly one IR
/// argument (pointers, references, scalars). Class types by value and
/// anything unrecognised return false.
bool isOneSlot(StringRef T) {
  if (T.ends_with("*") || T.ends_with("&"))
    return true;
  static const StringSet<> Scalars = {
      "bool", "char", "signed char", "unsigned char", "short",
      "unsigned short", "int", "unsigned int", "long", "unsigned long",
      "long long", "unsigned long long", "__int128", "unsigned __int128",
      "float", "double", "long double", "wchar_t", "char8_t", "char16_t",
      "char32_t", "std::nullptr_t", "decltype(nullptr)"};
  return Scalars.contains(T);
}

bool isConstPointerOrRef(StringRef T) {
  return T.ends_with("const&") || T.ends_with("const*") ||
         T.ends_with("const&&");
}

/// What the mangled name of \p CB's callee says about argument \p ArgNo.
bool mangledParamIsReadOnly(const CallBase *CB, unsigned ArgNo) {
  const Value *Callee = CB->getCalledOperand()->stripPointerCasts();
  if (!isa<GlobalValue>(Callee) || !Callee->hasName())
    return false;
  std::string Name = Callee->getName().str();
  if (!StringRef(Name).starts_with("_Z"))
    return false;
  ItaniumPartialDemangler D;
  if (D.partialDemangle(Name.c_str()) || !D.isFunction())
    return false;

  // IR argument positions, sret excluded.
  SmallVector<unsigned, 8> Slots;
  for (unsigned I = 0, E = CB->arg_size(); I != E; ++I)
    if (!CB->paramHasAttr(I, Attribute::StructRet))
      Slots.push_back(I);
  auto Pos = llvm::find(Slots, ArgNo);
  if (Pos == Slots.end())
    return false; // the sret slot is written
  unsigned Slot = Pos - Slots.begin();

  bool ConstMember = StringRef(Name).starts_with("_ZNK");
  if (ConstMember && Slot == 0)
    return true; // `this` of a const member function

  size_t N = 0;
  char *Buf = D.getFunctionParameters(nullptr, &N);
  if (!Buf)
    return false;
  std::vector<std::string> Params = splitParams(Buf);
  std::free(Buf);

  // Map slots to parameters while every parameter takes one IR argument.
  unsigned Simple = 0;
  while (Simple < Params.size() && isOneSlot(Params[Simple]))
    ++Simple;
  std::optional<unsigned> ThisSlots; // 1 if the IR has a `this` argument
  if (ConstMember || D.isCtorOrDtor())
    ThisSlots = 1;
  else if (Simple == Params.size()) {
    if (Slots.size() == Params.size() + 1)
      ThisSlots = 1;
    else if (Slots.size() == Params.size())
      ThisSlots = 0;
  }
  if (!ThisSlots || Slot < *ThisSlots)
    return false;
  unsigned P = Slot - *ThisSlots;
  if (P >= Simple)
    return false;
  return isConstPointerOrRef(Params[P]);
}

/// True if \p CB cannot write through its argument \p ArgNo.
bool argIsReadOnly(const CallBase *CB, unsigned ArgNo) {
  if (CB->paramHasAttr(ArgNo, Attribute::StructRet))
    return false;
  if (CB->isByValArgument(ArgNo))
    return true; // the callee gets a copy
  if (CB->onlyReadsMemory(ArgNo) || CB->onlyReadsMemory())
    return true; // readonly / readnone, or a read-only function
  return mangledParamIsReadOnly(CB, ArgNo);
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
  FunctionCallee writeSlowFn();
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
  if (Barrier)
    return Barrier;
  if ((Barrier = M.getFunction(BarrierFnName)) && !Barrier->isDeclaration())
    return Barrier;
  auto *CardTy = StructType::get(Ctx, {I64, I64, Ptr, Ptr, I64});
  auto *Cards = M.getOrInsertGlobal(CardTableName, CardTy);
  auto *VoidTy = Type::getVoidTy(Ctx);
  auto *FTy = FunctionType::get(VoidTy, {Ptr}, false);
  if (Barrier) { // a stray declaration
    Barrier->setLinkage(GlobalValue::InternalLinkage);
  } else {
    Barrier = Function::Create(FTy, GlobalValue::InternalLinkage, BarrierFnName,
                               M);
  }
  Barrier->addFnAttr(Attribute::AlwaysInline);
  Barrier->addFnAttr(Attribute::NoUnwind);
  Barrier->addFnAttr(Attribute::WillReturn);
  Barrier->addParamAttr(0, Attribute::NoCapture);
  Argument *P = Barrier->getArg(0);
  P->setName("p");

  auto *Entry = BasicBlock::Create(Ctx, "entry", Barrier);
  auto *Mark = BasicBlock::Create(Ctx, "mark", Barrier);
  auto *Check = BasicBlock::Create(Ctx, "check_card", Barrier);
  auto *Clean = BasicBlock::Create(Ctx, "clean", Barrier);
  auto *InFlight = BasicBlock::Create(Ctx, "copy_first", Barrier);
  auto *Page = BasicBlock::Create(Ctx, "mark_page", Barrier);
  auto *Done = BasicBlock::Create(Ctx, "done", Barrier);
  IRBuilder<> B(Entry);
  auto Field = [&](unsigned I) {
    return B.CreateConstInBoundsGEP2_32(CardTy, Cards, 0, I);
  };
  // Type-based alias tags under clang's C++ TBAA root: the table header and
  // the mark bytes are types of their own, so LLVM knows a mark store cannot
  // change the header and a program store cannot change either. In a loop
  // without calls, LICM then hoists the four header loads, and the barrier
  // in the loop body is a subtract, a compare and two byte stores (which
  // matters when the loop is memory-bound: fewer instructions per iteration
  // keep more cache misses in flight).
  MDBuilder MDB(Ctx);
  MDNode *Char = MDB.createTBAAScalarTypeNode(
      "omnipotent char", MDB.createTBAARoot("Simple C++ TBAA"));
  MDNode *HeaderTy = MDB.createTBAAScalarTypeNode("checksync card table", Char);
  MDNode *MarkTy = MDB.createTBAAScalarTypeNode("checksync card mark", Char);
  MDNode *HeaderTag = MDB.createTBAAStructTagNode(HeaderTy, HeaderTy, 0);
  MDNode *MarkTag = MDB.createTBAAStructTagNode(MarkTy, MarkTy, 0);
  auto Header = [&](Type *T, unsigned I, const char *Name) {
    LoadInst *L = B.CreateAlignedLoad(T, Field(I), Align(8), Name);
    L->setMetadata(LLVMContext::MD_tbaa, HeaderTag);
    return L;
  };
  auto Mark1 = [&](Value *P) {
    B.CreateStore(B.getInt8(1), P)->setMetadata(LLVMContext::MD_tbaa, MarkTag);
  };
  LoadInst *Lo = Header(I64, 0, "lo");
  LoadInst *Span = Header(I64, 1, "span");
  Value *Addr = B.CreatePtrToInt(P, I64, "addr");
  Value *D = B.CreateSub(Addr, Lo, "d");
  Value *In = B.CreateICmpULT(D, Span, "in");
  B.CreateCondBr(In, Mark, Done);

  // While a delta is being encoded (the header's in_flight), the card's flag
  // says whether its object may be part of it and must be copied before this
  // write (rt/heap/cow.h). Otherwise no card is read: two blind stores, whose
  // cache misses the store buffer absorbs.
  B.SetInsertPoint(Mark);
  Value *CardsP = Header(Ptr, 2, "cards");
  Value *Card = B.CreateInBoundsGEP(B.getInt8Ty(), CardsP, B.CreateLShr(D, CardShift, "ci"),
                                    "card");
  Value *Active = Header(I64, 4, "in_flight");
  B.CreateCondBr(B.CreateICmpEQ(Active, B.getInt64(0), "quiet"), Clean, Check,
                 MDB.createBranchWeights(2000, 1));

  B.SetInsertPoint(Check);
  LoadInst *Old = B.CreateLoad(B.getInt8Ty(), Card, "old");
  Old->setMetadata(LLVMContext::MD_tbaa, MarkTag);
  Value *Flag = B.CreateAnd(Old, B.getInt8(InFlightBit), "flag");
  B.CreateCondBr(B.CreateICmpEQ(Flag, B.getInt8(0), "not_in_flight"), Clean, InFlight,
                 MDB.createBranchWeights(2000, 1));

  B.SetInsertPoint(Clean);
  Mark1(Card);
  B.CreateBr(Page);

  B.SetInsertPoint(InFlight);
  B.CreateCall(writeSlowFn(), {P})->setCallingConv(CallingConv::PreserveMost);
  B.CreateBr(Page);

  B.SetInsertPoint(Page);
  Value *PagesP = Header(Ptr, 3, "pages");
  Mark1(B.CreateInBoundsGEP(B.getInt8Ty(), PagesP, B.CreateLShr(D, PageShift, "pi"),
                            "page"));
  B.CreateBr(Done);

  B.SetInsertPoint(Done);
  B.CreateRetVoid();
  return Barrier;
}

// Reads the object (it copies it) and may wait for the runtime's encoder;
// writes only runtime memory (and card bytes, which only barriers read). So
// it blocks no reordering of the program's reads, and loop-invariant card
// table loads still hoist.
FunctionCallee Instrumenter::writeSlowFn() {
  auto *FTy = FunctionType::get(Type::getVoidTy(Ctx), {Ptr}, false);
  FunctionCallee C = M.getOrInsertFunction(WriteSlowFnName, FTy);
  if (auto *F = dyn_cast<Function>(C.getCallee())) {
    // preserve_most: the callee saves the registers, so a loop with a
    // barrier keeps its values in registers around the never-taken call
    // (with the C convention the loop spilled them: +10 ns per iteration).
    F->setCallingConv(CallingConv::PreserveMost);
    F->addFnAttr(Attribute::NoUnwind);
    F->addFnAttr(Attribute::WillReturn);
    F->addFnAttr(Attribute::Cold);
    F->setMemoryEffects(MemoryEffects::readOnly() | MemoryEffects::inaccessibleMemOnly());
    F->addParamAttr(0, Attribute::NoCapture);
  }
  return C;
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
