//===-- BarrierRuntime.h - the barrier's IR: abi.h in LLVM -----*- C++ -*-===//
#ifndef CHECKSYNC_PASS_BARRIERRUNTIME_H
#define CHECKSYNC_PASS_BARRIERRUNTIME_H

#include "llvm/IR/DerivedTypes.h"
#include "llvm/IR/Function.h"

namespace checksync::pass {

/// The inline barrier `checksync.barrier(ptr)` of include/checksync/abi.h,
/// defined in M once (internal, alwaysinline), with the card table global.
llvm::Function *defineBarrier(llvm::Module &M);

/// The runtime's slow path `checksync_rt_write_slow(ptr)`, declared with the
/// preserve_most convention (calls to it must use it too).
llvm::FunctionCallee declareWriteSlow(llvm::Module &M);

} // namespace checksync::pass

#endif
