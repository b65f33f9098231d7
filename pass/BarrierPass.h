//===- BarrierPass.h - CheckSync write barriers ----------------*- C++ -*-===//
//
// The `checksync-barriers` module pass: turns the plugin's
// "checksync.field..." llvm.ptr.annotation calls into card-marking write
// barriers (include/checksync/abi.h) and marks mem intrinsic destinations.
// See BarrierPass.cpp and docs/compiler.md ("Write barriers").
//
//===----------------------------------------------------------------------===//
#ifndef CHECKSYNC_PASS_BARRIERPASS_H
#define CHECKSYNC_PASS_BARRIERPASS_H

#include <checksync/abi.h>

#include "llvm/ADT/StringRef.h"
#include "llvm/IR/PassManager.h"

namespace checksync::pass {

inline constexpr llvm::StringLiteral BarrierPassName = "checksync-barriers";
/// Annotation prefix written by the plugin on persistent fields.
inline constexpr llvm::StringLiteral FieldAnnotationPrefix = CHECKSYNC_FIELD_ANNOTATION_PREFIX;
/// Named metadata marking a module whose barriers are already inserted.
inline constexpr llvm::StringLiteral BarriersMDName = "checksync.barriers";
inline constexpr llvm::StringLiteral BarrierFnName = "checksync.barrier";
inline constexpr llvm::StringLiteral MarkRangeFnName = "checksync_rt_mark_range";
inline constexpr llvm::StringLiteral WriteSlowFnName = "checksync_rt_write_slow";
inline constexpr llvm::StringLiteral CardTableName = "checksync_rt_cards";

struct BarrierStats {
  unsigned Annotations = 0; ///< checksync.field annotations consumed
  unsigned Barriers = 0;    ///< checksync.barrier calls inserted
  unsigned MarkRanges = 0;  ///< checksync_rt_mark_range calls inserted
  unsigned Removed = 0;     ///< of those, removed as redundant
};

/// True if \p M carries "checksync.field" annotations.
bool hasFieldAnnotations(llvm::Module &M);

/// Instruments \p M (once: sets !checksync.barriers). Returns true if the
/// module changed.
bool insertBarriers(llvm::Module &M, BarrierStats &Stats);

class BarrierPass : public llvm::PassInfoMixin<BarrierPass> {
public:
  llvm::PreservedAnalyses run(llvm::Module &M, llvm::ModuleAnalysisManager &);
  static bool isRequired() { return true; }
};

} // namespace checksync::pass

#endif
