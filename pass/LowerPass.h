//===- LowerPass.h - CheckSync's IR lowering pass -------------*- C++ -*-===//
//
// The `checksync-lower` module pass. See LowerPass.cpp for what it does and
// docs/compiler.md for the metadata contract with the clang plugin.
//
//===----------------------------------------------------------------------===//
#ifndef CHECKSYNC_PASS_LOWERPASS_H
#define CHECKSYNC_PASS_LOWERPASS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/IR/PassManager.h"

namespace llvm {
class PassBuilder;
} // namespace llvm

namespace checksync::pass {

/// Names shared by the plugin (which writes them) and the pass (which reads
/// them). They are the contract documented in docs/compiler.md.
inline constexpr llvm::StringLiteral TypesMDName = "checksync.types";
inline constexpr llvm::StringLiteral RootsMDName = "checksync.roots";
inline constexpr llvm::StringLiteral LoweredMDName = "checksync.lowered";
inline constexpr llvm::StringLiteral NewFnPrefix = "checksync.new.";
inline constexpr llvm::StringLiteral PassName = "checksync-lower";
/// Barriers, then lowering: what the clang plugin's pipeline runs.
inline constexpr llvm::StringLiteral PipelineName = "checksync";
/// checksync.h calls this from every translation unit; the pass deletes the
/// calls, so the runtime learns which units were built without the plugin.
inline constexpr llvm::StringLiteral UninstrumentedProbeName =
    "checksync_rt_tu_without_plugin";

/// Lowers the CheckSync schema metadata and allocation placeholders of a
/// module into runtime descriptors and runtime calls.
class LowerPass : public llvm::PassInfoMixin<LowerPass> {
public:
  /// \p OnlyIfSchema: do nothing unless the module carries schema metadata.
  /// Used for the automatic pipeline-start run of the pass plugin entry point,
  /// which may run before the clang plugin has injected the schema.
  /// \p WithBarriers: insert the write barriers first (the `checksync`
  /// pipeline). Without it, a module whose field annotations no barrier pass
  /// has processed is an error: lowering would drop them, and with them every
  /// write the runtime must see.
  explicit LowerPass(bool OnlyIfSchema = false, bool WithBarriers = false)
      : OnlyIfSchema(OnlyIfSchema), WithBarriers(WithBarriers) {}

  llvm::PreservedAnalyses run(llvm::Module &M, llvm::ModuleAnalysisManager &);
  static bool isRequired() { return true; }

private:
  bool OnlyIfSchema, WithBarriers;
};

/// Registers `checksync-lower` with \p PB's textual pipeline parser and adds a
/// lenient run at pipeline start (for `-fpass-plugin=`).
void registerPassBuilderCallbacks(llvm::PassBuilder &PB);

} // namespace checksync::pass

#endif
