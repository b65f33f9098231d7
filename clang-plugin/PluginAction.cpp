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
#include "BarrierPass.h"
#include "CodecInstantiator.h"
#include "LowerPass.h"
#include "Markers.h"
#include "NewRewriter.h"
#include "SchemaBuilder.h"
#include "SchemaConsumer.h"
#include "SchemaPass.h"

#include "clang/AST/ASTConsumer.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/Attr.h"
#include "clang/AST/RecordLayout.h"
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
    NR->setSema(Sema);
  }
  void ForgetSema() override {
    Codecs->clearSema();
    SB->clearSema();
    NR->clearSema();
  }

  /// Runs before CodeGen's: deferred codec entries instantiated here still
  /// reach the code generator.
  void HandleTranslationUnit(ASTContext &) override {
    SB->finish();
    Codecs->finish(*S);
  }

  void HandleTagDeclDefinition(TagDecl *D) override {
    if (auto *RD = dyn_cast<CXXRecordDecl>(D)) {
      annotateFields(RD);
      SB->handleRecord(RD);
    }
  }

private:
  /// Attaches "checksync.field:<key>:<offset>" to every non-static,
  /// non-transient field of a persistent record, so that CodeGen emits an
  /// llvm.ptr.annotation for every address of the field it computes (the
  /// pass turns them into write barriers). Runs before the code generator sees
  /// the record or any function using it; also for template instantiations.
  void annotateFields(CXXRecordDecl *RD) {
    if (!RD->isCompleteDefinition() || RD->isDependentContext() ||
        RD->isInvalidDecl() || !isPersistent(RD))
      return;
    ASTContext &Ctx = RD->getASTContext();
    const ASTRecordLayout &Layout = Ctx.getASTRecordLayout(RD);
    std::string Key = N->typeKey(Ctx.getRecordType(RD));
    for (FieldDecl *FD : RD->fields()) {
      if (FD->isInvalidDecl() || hasMarker(FD, TransientMarker))
        continue;
      bool Has = llvm::any_of(FD->specific_attrs<AnnotateAttr>(),
                              [](const AnnotateAttr *A) {
                                return A->getAnnotation().starts_with(
                                    FieldMarkerPrefix);
                              });
      if (Has)
        continue;
      uint64_t Offset =
          Ctx.toCharUnitsFromBits(Layout.getFieldOffset(FD->getFieldIndex()))
              .getQuantity();
      std::string Ann = (FieldMarkerPrefix + ":" + Key + ":" +
                         llvm::Twine(Offset)).str();
      FD->addAttr(AnnotateAttr::CreateImplicit(Ctx, Ann, nullptr, 0,
                                               FD->getSourceRange()));
    }
  }

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
                MPM.addPass(pass::BarrierPass());
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

std::unique_ptr<ASTConsumer> createSchemaConsumer(std::shared_ptr<Schema> S) {
  return std::make_unique<Consumer>(std::move(S));
}

} // namespace checksync::plugin

static clang::FrontendPluginRegistry::Add<checksync::plugin::CheckSyncAction>
    CheckSyncPlugin("checksync",
                    "CheckSync: persistent type schemas and allocation "
                    "tracking");
