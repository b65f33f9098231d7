// checksync-schema: what the CheckSync plugin sees in a project, before and
// without a build (issue 15, docs/schema-tool.md). It runs the plugin's own
// AST consumer (clang-plugin/SchemaConsumer.h: the same classification and
// diagnostics) over a compilation database with Clang libTooling.
//
//   checksync-schema list -p BUILD_DIR [--json] [FILE...]
//       every persistent type and root, field by field, per translation unit;
//       a field the plugin rejects gets its diagnostic; exit 1 if any.
//   checksync-schema check -p BUILD_DIR [FILE...]
//       every translation unit that sees a persistent type or root but is not
//       compiled with the plugin (its allocations and writes would be
//       invisible: lost state); exit 1 if any.
#include "Schema.h"
#include "SchemaConsumer.h"

#include "clang/Frontend/FrontendAction.h"
#include "clang/Tooling/ArgumentsAdjusters.h"
#include "clang/Tooling/CompilationDatabase.h"
#include "clang/Tooling/Tooling.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <vector>

using namespace clang;
using namespace clang::tooling;
using checksync::plugin::FieldSchema;
using checksync::plugin::Schema;
using json = nlohmann::ordered_json;

namespace {

const char *kUsage =
    "usage: checksync-schema list -p BUILD_DIR [--json] [FILE...]\n"
    "       checksync-schema check -p BUILD_DIR [FILE...]\n"
    "  list   every persistent type and root the CheckSync plugin sees, field by field,\n"
    "         per translation unit of BUILD_DIR/compile_commands.json (or only FILEs);\n"
    "         fields the plugin rejects are reported with its diagnostic (exit 1)\n"
    "  check  translation units that see persistent types or roots but are compiled\n"
    "         without the plugin (-fplugin=.../checksync.so): exit 1 if any\n"
    "exit codes: 0 ok, 1 findings (rejected fields, units without the plugin), 2 no\n"
    "compilation database\n";

// Collects each translation unit's schema.
struct Collected {
  std::map<std::string, std::shared_ptr<Schema>> by_file;
};

class ListAction : public ASTFrontendAction {
public:
  explicit ListAction(Collected &C) : C(C) {}
  std::unique_ptr<ASTConsumer> CreateASTConsumer(CompilerInstance &, StringRef File) override {
    auto S = std::make_shared<Schema>();
    C.by_file[File.str()] = S;
    return checksync::plugin::createSchemaConsumer(S);
  }

private:
  Collected &C;
};

class ListFactory : public FrontendActionFactory {
public:
  explicit ListFactory(Collected &C) : C(C) {}
  std::unique_ptr<FrontendAction> create() override { return std::make_unique<ListAction>(C); }

private:
  Collected &C;
};

std::string shape(const FieldSchema &F, const Schema &S) {
  std::string s = F.Kind;
  std::string target = F.Target;
  for (const auto &T : S.Types)
    if (T.Key == F.Target)
      target = T.Name;
  if (F.Kind == "int" || F.Kind == "uint" || F.Kind == "float" || F.Kind == "bytes")
    s += std::to_string(F.ElemSize * 8);
  else if (!F.Target.empty())
    s += " " + target;
  if (F.Count != 1)
    s += "[" + std::to_string(F.Count) + "]";
  return s;
}

json field_json(const FieldSchema &F) {
  json j{{"name", F.Name},
         {"offset", F.Offset},
         {"kind", F.Kind},
         {"elem_size", F.ElemSize},
         {"count", F.Count}};
  if (!F.Target.empty())
    j["target"] = F.Target;
  if (!F.RenamedFrom.empty())
    j["renamed_from"] = F.RenamedFrom;
  return j;
}

void print(const Collected &C, bool as_json) {
  json files = json::array();
  for (const auto &[file, S] : C.by_file) {
    if (!as_json) {
      std::cout << file << ":\n";
      for (const auto &T : S->Types) {
        std::cout << "  type " << T.Name << " (size " << T.Size << ", key " << T.Key << ")\n";
        for (const FieldSchema &F : T.Fields)
          std::cout << "    " << F.Name << ": " << shape(F, *S)
                    << (F.RenamedFrom.empty() ? "" : " (renamed from " + F.RenamedFrom + ")")
                    << "\n";
      }
      for (const auto &R : S->Roots)
        std::cout << "  root " << R.Value.Name << ": " << shape(R.Value, *S) << "\n";
      continue;
    }
    json types = json::array();
    for (const auto &T : S->Types) {
      json fields = json::array();
      for (const FieldSchema &F : T.Fields)
        fields.push_back(field_json(F));
      types.push_back({{"name", T.Name}, {"key", T.Key}, {"size", T.Size}, {"fields", fields}});
    }
    json roots = json::array();
    for (const auto &R : S->Roots)
      roots.push_back(field_json(R.Value));
    files.push_back({{"file", file}, {"types", types}, {"roots", roots}});
  }
  if (as_json)
    std::cout << json{{"translation_units", files}}.dump(2) << "\n";
}

// The project's flags, minus the plugin itself (this tool is the plugin),
// plus clang's resource directory (the tool is not installed beside clang).
ArgumentsAdjuster adjust() {
  return [](const CommandLineArguments &Args, StringRef) {
    CommandLineArguments Out;
    for (size_t I = 0; I < Args.size(); ++I) {
      StringRef A = Args[I];
      if (A.starts_with("-fplugin=") || A.starts_with("-fpass-plugin="))
        continue;
      if (A == "-Werror=unknown-attributes")
        continue;
      Out.push_back(Args[I]);
    }
    Out.insert(Out.begin() + (Out.empty() ? 0 : 1),
               std::string("-resource-dir=") + CHECKSYNC_CLANG_RESOURCE_DIR);
    return Out;
  };
}

// A unit compiled without the plugin that sees persistent types or roots.
int check(const CompilationDatabase &db, const Collected &collected) {
  int without = 0;
  for (const auto &[file, S] : collected.by_file) {
    if (S->Types.empty() && S->Roots.empty())
      continue;
    bool plugin = false;
    for (const CompileCommand &c : db.getCompileCommands(file))
      for (const std::string &a : c.CommandLine)
        plugin |= a.rfind("-fplugin=", 0) == 0 && a.find("checksync") != std::string::npos;
    if (plugin)
      continue;
    ++without;
    std::cout << file << ": sees " << S->Types.size() << " persistent type(s) and "
              << S->Roots.size()
              << " root(s) but is compiled without the CheckSync plugin: its allocations "
                 "and writes of persistent objects are invisible to checkpoints (add "
                 "$(checksync-config --cxxflags) to its compile flags)\n";
  }
  std::cout << collected.by_file.size() << " translation unit(s) checked, " << without
            << " without the plugin\n";
  return without ? 1 : 0;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 1 : 0;
  }
  std::string cmd = argv[1], build;
  bool as_json = false;
  std::vector<std::string> files;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-p" && i + 1 < argc)
      build = argv[++i];
    else if (a.rfind("-p=", 0) == 0)
      build = a.substr(3);
    else if (a == "--json")
      as_json = true;
    else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "checksync-schema: unknown option %s\n%s", a.c_str(), kUsage);
      return 1;
    } else
      files.push_back(a);
  }
  if ((cmd != "list" && cmd != "check") || build.empty()) {
    std::string why = build.empty() ? "-p BUILD_DIR is required" : "unknown command '" + cmd + "'";
    std::fprintf(stderr, "checksync-schema: %s\n%s", why.c_str(), kUsage);
    return 1;
  }
  std::string error;
  std::unique_ptr<CompilationDatabase> db = CompilationDatabase::loadFromDirectory(build, error);
  if (!db) {
    std::fprintf(stderr, "checksync-schema: %s: %s\n", build.c_str(), error.c_str());
    return 2;
  }
  if (files.empty())
    files = db->getAllFiles();
  ClangTool tool(*db, files);
  tool.appendArgumentsAdjuster(adjust());
  Collected collected;
  ListFactory factory(collected);
  int rc = tool.run(&factory);
  if (cmd == "list") {
    print(collected, as_json);
    return rc == 0 ? 0 : 1;
  }
  return check(*db, collected);
}
