//===- PassPluginEntry.cpp - pass plugin entry point for checksync-lower ===//
//
// Exports llvmGetPassPluginInfo, so the pass can be loaded by
//   opt -load-pass-plugin=CheckSyncPass.so -passes=checksync ...
// (checksync = checksync-barriers then checksync-lower; each also alone)
// or by clang with -fpass-plugin= (used when compiling from .bc files that
// already carry the schema metadata). Both CheckSyncPass.so and the clang
// plugin checksync.so contain this entry point.
//
//===----------------------------------------------------------------------===//
#include "BarrierPass.h"
#include "LowerPass.h"

#include "llvm/Passes/PassBuilder.h"
#include "llvm/Passes/PassPlugin.h"

using namespace llvm;

void checksync::pass::registerPassBuilderCallbacks(PassBuilder &PB) {
  PB.registerPipelineParsingCallback(
      [](StringRef Name, ModulePassManager &MPM,
         ArrayRef<PassBuilder::PipelineElement>) {
        if (Name == PassName) {
          MPM.addPass(LowerPass());
          return true;
        }
        if (Name == PipelineName) {
          MPM.addPass(LowerPass(/*OnlyIfSchema=*/false, /*WithBarriers=*/true));
          return true;
        }
        if (Name == BarrierPassName) {
          MPM.addPass(BarrierPass());
          return true;
        }
        return false;
      });
  // Lenient: when clang also loaded checksync.so with -fplugin, this runs
  // before the plugin has injected the schema and must leave the module alone.
  PB.registerPipelineStartEPCallback(
      [](ModulePassManager &MPM, OptimizationLevel) {
        MPM.addPass(LowerPass(/*OnlyIfSchema=*/true, /*WithBarriers=*/true));
      });
}

extern "C" LLVM_ATTRIBUTE_WEAK ::llvm::PassPluginLibraryInfo
llvmGetPassPluginInfo() {
  return {LLVM_PLUGIN_API_VERSION, "CheckSyncPass", "0.1",
          checksync::pass::registerPassBuilderCallbacks};
}
