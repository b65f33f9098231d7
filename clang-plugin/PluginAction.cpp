//===- PluginAction.cpp - the CheckSync clang plugin action ---------------===//
//
// `clang++ -fplugin=checksync.so` runs this action before the main action
// (code generation). Its AST consumer
//   * validates every completed record and builds the schema of the
//     persistent ones (HandleTagDeclDefinition, SchemaBuilder),
//   * walks every top-level declaration, including template instantiations,
//     to redirect new-expressions of persistent types (NewRewriter) and to
//     collect root variables,
// and the action registers, through the code generator's
// PassBuilderCallbacks, a pipeline-start step that writes the schema into the
// module as metadata (InjectSchemaPass) and lowers it (checksync-lower).
// Our consumer runs before CodeGen's for each declaration, so every rewrite
// happens before the code for it is generated.
//
//===----------------------------------------------------------------------===//
#include "CodecInstantiator.h"
#include "LowerPass.h"
#include "Markers.h"
#include "NewRewriter.h"
#include "SchemaBuilder.h"
#include "SchemaPass.h"

#include "clang/AST/ASTConsumer.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Frontend/CompilerInstance.h"
#include "clang/Frontend/FrontendPluginRegistry.h"
#include "clang/Sema/SemaConsumer.h"
#include "llvm/Passes/PassBuilder.h"

using namespace clang;

namespace checksync::plugin {
namespace {

class Visitor : public RecursiveASTVisitor<Visitor> {
public:
  Visitor(NewRewriter &NR, SchemaBuilder &SB) : NR(NR), SB(SB) {}

  bool shouldVisitTemplateInstantiations() const { return true; }

  bool VisitCXXNewExpr(CXXNewExpr *E) {
    NR.rewrite(E);
    return true;
  }
  bool VisitCallExpr(CallExpr *E) {
    NR.checkCall(E);
    return true;
  }
  bool VisitVarDecl(VarDecl *VD) {
    if (VD->isFileVarDecl())
      SB.handleVar(VD);
    return true;
  }

private:
  NewRewriter &NR;
  SchemaBuilder &SB;
};

class Consumer : public SemaConsumer {
public:
  explicit Consumer(std::shared_ptr<Schema> S) : S(std::move(S)) {}

  void Initialize(ASTContext &Ctx) override {
    N = std::make_unique<Namer>(Ctx);
    Codecs = std::make_unique<CodecInstantiator>(Ctx, *N);
    SB = std::make_unique<SchemaBuilder>(Ctx, *N, *S, *Codecs);
    NR = std::make_unique<NewRewriter>(Ctx, *N);
  }

  bool HandleTopLevelDecl(DeclGroupRef DG) override {
    for (Decl *D : DG)
      visit(D);
    return true;
  }
  void HandleInlineFunctionDefinition(FunctionDecl *D) override { visit(D); }
  void HandleInterestingDecl(DeclGroupRef DG) override {
    HandleTopLevelDecl(DG);
  }
  void HandleCXXStaticMemberVarInstantiation(VarDecl *D) override {
    visit(D);
  }
  /// Codec entries and vtables are requested through Sema.
  void InitializeSema(Sema &Sema) override {
    Codecs->setSema(Sema);
    SB->setSema(Sema);
  }
  void ForgetSema() override {
    Codecs->clearSema();
    SB->clearSema();
  }

  /// Runs before CodeGen's: deferred codec entries instantiated here still
  /// reach the code generator.
  void HandleTranslationUnit(ASTContext &) override {
    SB->finish();
    Codecs->finish(*S);
  }

  void HandleTagDeclDefinition(TagDecl *D) override {
    if (const auto *RD = dyn_cast<CXXRecordDecl>(D))
      SB->handleRecord(RD);
  }

private:
  void visit(Decl *D) {
    if (D && !D->isInvalidDecl())
      Visitor(*NR, *SB).TraverseDecl(D);
  }

  std::shared_ptr<Schema> S;
  std::unique_ptr<Namer> N;
  std::unique_ptr<CodecInstantiator> Codecs;
  std::unique_ptr<SchemaBuilder> SB;
  std::unique_ptr<NewRewriter> NR;
};

class CheckSyncAction : public PluginASTAction {
protected:
  std::unique_ptr<ASTConsumer> CreateASTConsumer(CompilerInstance &CI,
                                                 llvm::StringRef) override {
    auto S = std::make_shared<Schema>();
    CI.getCodeGenOpts().PassBuilderCallbacks.push_back(
        [S](llvm::PassBuilder &PB) {
          PB.registerPipelineStartEPCallback(
              [S](llvm::ModulePassManager &MPM, llvm::OptimizationLevel) {
                MPM.addPass(InjectSchemaPass(S));
                MPM.addPass(pass::LowerPass());
              });
        });
    return std::make_unique<Consumer>(S);
  }

  bool ParseArgs(const CompilerInstance &,
                 const std::vector<std::string> &) override {
    return true;
  }

  ActionType getActionType() override { return AddBeforeMainAction; }
};

} // namespace
} // namespace checksync::plugin

static clang::FrontendPluginRegistry::Add<checksync::plugin::CheckSyncAction>
    CheckSyncPlugin("checksync",
                    "CheckSync: persistent type schemas and allocation "
                    "tracking");
