//===- SchemaPass.h - write the plugin's schema into the IR ----*- C++ -*-===//
#ifndef CHECKSYNC_PLUGIN_SCHEMAPASS_H
#define CHECKSYNC_PLUGIN_SCHEMAPASS_H

#include "Schema.h"

#include "llvm/IR/PassManager.h"

#include <memory>

namespace checksync::plugin {

/// Adds !checksync.types and !checksync.roots (docs/compiler.md) for the
/// schema the AST consumer collected. The lowering pass that follows reads
/// only this metadata.
class InjectSchemaPass : public llvm::PassInfoMixin<InjectSchemaPass> {
public:
  explicit InjectSchemaPass(std::shared_ptr<const Schema> S)
      : S(std::move(S)) {}
  llvm::PreservedAnalyses run(llvm::Module &M, llvm::ModuleAnalysisManager &);
  static bool isRequired() { return true; }

private:
  std::shared_ptr<const Schema> S;
};

} // namespace checksync::plugin

#endif
