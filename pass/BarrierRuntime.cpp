//===-- BarrierRuntime.cpp - the barrier's IR: abi.h in LLVM ---------------===//
//
// The runtime side of the write barrier as IR, shared by every module the
// barrier pass instruments: the card table global, the inline barrier
// function (include/checksync/abi.h, "Write barrier") and the declaration of
// the slow path it calls while a delta is being encoded.
//
//===----------------------------------------------------------------------===//
#include "BarrierRuntime.h"

#include "BarrierPass.h"

#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/MDBuilder.h"
#include "llvm/IR/Module.h"

#include <checksync/abi.h>

using namespace llvm;
using namespace checksync::pass;

namespace {
// One definition, shared with the runtime: include/checksync/abi.h.
constexpr unsigned CardShift = CHECKSYNC_CARD_SHIFT;
constexpr unsigned PageShift = CHECKSYNC_PAGE_SHIFT;
constexpr unsigned InFlightBit = CHECKSYNC_CARD_IN_FLIGHT;
} // namespace

// Reads the object (it copies it) and may wait for the runtime's encoder;
// writes only runtime memory (and card bytes, which only barriers read). So
// it blocks no reordering of the program's reads, and loop-invariant card
// table loads still hoist.
FunctionCallee checksync::pass::declareWriteSlow(Module &M) {
  LLVMContext &Ctx = M.getContext();
  auto *FTy = FunctionType::get(Type::getVoidTy(Ctx), {PointerType::getUnqual(Ctx)}, false);
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

Function *checksync::pass::defineBarrier(Module &M) {
  LLVMContext &Ctx = M.getContext();
  PointerType *Ptr = PointerType::getUnqual(Ctx);
  IntegerType *I64 = Type::getInt64Ty(Ctx);
  Function *Barrier = M.getFunction(BarrierFnName);
  if (Barrier && !Barrier->isDeclaration())
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
  // Mark bytes are written by many threads and read and cleared by the
  // runtime: relaxed atomic byte accesses (the same plain mov on x86-64;
  // what ThreadSanitizer needs to see them as intended races).
  auto Mark1 = [&](Value *P) {
    StoreInst *St = B.CreateAlignedStore(B.getInt8(1), P, Align(1));
    St->setAtomic(AtomicOrdering::Monotonic);
    St->setMetadata(LLVMContext::MD_tbaa, MarkTag);
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
  LoadInst *Old = B.CreateAlignedLoad(B.getInt8Ty(), Card, Align(1), "old");
  Old->setAtomic(AtomicOrdering::Monotonic);
  Old->setMetadata(LLVMContext::MD_tbaa, MarkTag);
  Value *Flag = B.CreateAnd(Old, B.getInt8(InFlightBit), "flag");
  B.CreateCondBr(B.CreateICmpEQ(Flag, B.getInt8(0), "not_in_flight"), Clean, InFlight,
                 MDB.createBranchWeights(2000, 1));

  B.SetInsertPoint(Clean);
  Mark1(Card);
  B.CreateBr(Page);

  B.SetInsertPoint(InFlight);
  B.CreateCall(declareWriteSlow(M), {P})->setCallingConv(CallingConv::PreserveMost);
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
