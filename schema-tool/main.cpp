// checksync-schema: what the CheckSync plugin sees in a project, before and
// without a build (issue 15, docs/schema-tool.md). It runs the plugin's own
// AST consumer (clang-plugin/SchemaConsumer.h: the same classification and
// diagnostics) over a compilation database with Clang libTooling.
//
//   checksync-schema list -p BUILD_DIR [--json] [FILE...]
//       every persistent type and root, field by field, per translation unit;
//       a field the plugin rejects gets its diagnostic; exit 1 if any.
//   checksync-schema diff OLD NEW [--allow-lossy]
//       what a resume from OLD into NEW would do, type by type
//       (docs/evolution.md): each side is a checkpoint (directory or file) or
//       a build (-p BUILD_DIR). Exit 0: it would resume (the changes listed),
//       3: it would be refused (the reason), 2: bad input.
//   checksync-schema check -p BUILD_DIR [FILE...]
//       every translation unit that sees a persistent type or root but is not
//       compiled with the plugin (its allocations and writes would be
//       invisible: lost state); exit 1 if any.
#include "Schema.h"
#include "SchemaConsumer.h"

#include "runtime/evolve.h"
#include "store/chain.h"

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
    "       checksync-schema diff (OLD_CHECKPOINT | -p OLD_BUILD_DIR)\n"
    "                             (NEW_CHECKPOINT | -p NEW_BUILD_DIR) [--allow-lossy]\n"
    "  list   every persistent type and root the CheckSync plugin sees, field by field,\n"
    "         per translation unit of BUILD_DIR/compile_commands.json (or only FILEs);\n"
    "         fields the plugin rejects are reported with its diagnostic (exit 1)\n"
    "  check  translation units that see persistent types or roots but are compiled\n"
    "         without the plugin (-fplugin=.../checksync.so): exit 1 if any, 2 if a\n"
    "         unit could not be processed (so it was not checked)\n"
    "  diff   what resuming OLD into NEW would do, type by type; each is a checkpoint\n"
    "         (directory or file) or a build (-p DIR with compile_commands.json); a\n"
    "         build as OLD has types but no objects. --allow-lossy: as `checksync-rt\n"
    "         resume --allow-lossy`. Exit 0 if it would resume, 3 if it would be refused\n"
    "exit codes: 0 ok, 1 findings (rejected fields, units without the plugin), 2 bad\n"
    "input (no compilation database, unreadable checkpoint), 3 diff: resume refused\n";

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
  if (F.Flags & CHECKSYNC_FIELD_ALLOW_LOSSY)
    j["allow_lossy"] = true;
  if (F.Flags & CHECKSYNC_FIELD_HAS_INITIALISER)
    j["initialiser"] = (F.Flags & CHECKSYNC_FIELD_DEFAULT_CONSTANT) ? "constant" : "not constant";
  return j;
}

void print(const Collected &C, bool as_json) {
  json files = json::array();
  for (const auto &[file, S] : C.by_file) {
    if (!as_json) {
      std::cout << file << ":\n";
      for (const auto &T : S->Types) {
        std::cout << "  type " << T.Name << " (size " << T.Size << ", key " << T.Key
                  << (T.RenamedFrom.empty() ? "" : ", renamed from " + T.RenamedFrom) << ")\n";
        for (const FieldSchema &F : T.Fields)
          std::cout << "    " << F.Name << ": " << shape(F, *S)
                    << (F.RenamedFrom.empty() ? "" : " (renamed from " + F.RenamedFrom + ")")
                    << ((F.Flags & CHECKSYNC_FIELD_ALLOW_LOSSY) ? " (allow_lossy)" : "")
                    << ((F.Flags & CHECKSYNC_FIELD_DEFAULT_CONSTANT) ? " (initialiser: constant)"
                        : (F.Flags & CHECKSYNC_FIELD_HAS_INITIALISER)
                            ? " (initialiser: not a constant)"
                            : "")
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
      json t{{"name", T.Name}, {"key", T.Key}, {"size", T.Size}, {"fields", fields}};
      if (!T.RenamedFrom.empty())
        t["renamed_from"] = T.RenamedFrom;
      types.push_back(std::move(t));
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

// The program schema a build would register: its units' types merged by key.
void schema_of_build(const Collected &c, std::vector<checksync::detail::Type> &types,
                     std::vector<checksync::detail::Root> &roots) {
  namespace d = checksync::detail;
  auto kind = [](const std::string &k) -> std::uint32_t {
    static const std::map<std::string, std::uint32_t> kinds = {
        {"int", 1}, {"uint", 2},   {"float", 3}, {"bytes", 4},
        {"ref", 5}, {"record", 6}, {"codec", 7}};
    auto it = kinds.find(k);
    return it == kinds.end() ? 0 : it->second;
  };
  auto field = [&](const FieldSchema &F) {
    d::Field f;
    f.name = F.Name;
    f.offset = F.Offset;
    f.kind = kind(F.Kind);
    f.elem_size = std::uint32_t(F.ElemSize);
    f.count = F.Count;
    f.target_key = F.Target;
    f.renamed_from = d::split_renamed_from(F.RenamedFrom);
    f.flags = F.Flags;
    f.default_value = F.Default;
    return f;
  };
  std::map<std::string, bool> seen_types, seen_roots;
  for (const auto &[file, S] : c.by_file) {
    for (const auto &T : S->Types) {
      if (seen_types[T.Key])
        continue;
      seen_types[T.Key] = true;
      d::Type t;
      t.key = T.Key;
      t.name = T.Name;
      t.size = T.Size;
      t.align = T.Align;
      t.renamed_from = d::split_renamed_from(T.RenamedFrom);
      for (const FieldSchema &F : T.Fields)
        t.fields.push_back(field(F));
      types.push_back(std::move(t));
    }
    for (const auto &R : S->Roots) {
      if (seen_roots[R.Value.Name])
        continue;
      seen_roots[R.Value.Name] = true;
      d::Root r;
      r.name = R.Value.Name;
      r.field = field(R.Value);
      roots.push_back(std::move(r));
    }
  }
}

// One side of a diff: a checkpoint (directory or file) or a build.
struct Side {
  std::string path;
  bool build = false;
};

// A build's schema as the image of a checkpoint with no objects.
int load_build(const Side &side, checksync::detail::Image &img,
               std::vector<checksync::detail::Type> &types,
               std::vector<checksync::detail::Root> &roots) {
  std::string error;
  std::unique_ptr<CompilationDatabase> db =
      CompilationDatabase::loadFromDirectory(side.path, error);
  if (!db) {
    std::fprintf(stderr, "checksync-schema: %s: %s\n", side.path.c_str(), error.c_str());
    return 2;
  }
  ClangTool tool(*db, db->getAllFiles());
  tool.appendArgumentsAdjuster(adjust());
  Collected collected;
  ListFactory factory(collected);
  if (tool.run(&factory) != 0) {
    std::fprintf(stderr, "checksync-schema diff: the build in %s does not compile with the plugin (errors above)\n",
                 side.path.c_str());
    return 2;
  }
  schema_of_build(collected, types, roots);
  img.types = types;
  for (const checksync::detail::Root &r : roots) {
    checksync::detail::DecodedRoot dr;
    dr.root = r;
    img.roots.push_back(std::move(dr));
  }
  return 0;
}

int diff(const Side &old_side, const Side &new_side, bool allow_lossy) {
  namespace d = checksync::detail;
  std::unique_ptr<d::Image> old_img = std::make_unique<d::Image>(), new_img;
  std::vector<d::Type> types, unused_types;
  std::vector<d::Root> roots, unused_roots;
  try {
    std::string note;
    if (!old_side.build)
      old_img = d::load_chain(old_side.path, &note);
    if (!new_side.build)
      new_img = d::load_chain(new_side.path, &note);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "checksync-schema diff: %s\n", e.what());
    return 2;
  }
  if (old_side.build)
    if (int rc = load_build(old_side, *old_img, unused_types, unused_roots))
      return rc;
  if (new_img) {
    types = new_img->types;
    for (const d::DecodedRoot &r : new_img->roots)
      roots.push_back(r.root);
  } else {
    d::Image scratch;
    if (int rc = load_build(new_side, scratch, types, roots))
      return rc;
  }
  auto name = [](const Side &s) { return s.build ? "the build in " + s.path : s.path; };
  std::cout << "resume of "
            << (old_side.build
                    ? name(old_side)
                    : "epoch " + std::to_string(old_img->info.epoch) + " (" + old_side.path + ")")
            << " into " << name(new_side) << ":\n";
  try {
    d::PlanOptions opts;
    opts.allow_lossy = allow_lossy;
    opts.objects_unknown = old_side.build;
    d::SchemaPlan plan = d::plan_schema(*old_img, types, roots, opts);
    for (const std::string &c : plan.changes)
      std::cout << "  " << c << "\n";
    std::cout << (plan.changes.empty() ? "  identical schemas: it would resume as is\n"
                                       : "  it would resume, with the changes above\n");
    return 0;
  } catch (const std::exception &e) {
    std::cout << "  refused: " << e.what() << "\n";
    return 3;
  }
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 1 : 0;
  }
  std::string cmd = argv[1], build;
  bool as_json = false, allow_lossy = false;
  std::vector<std::string> files;
  std::vector<Side> sides; // diff: checkpoints and builds, in order
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-p" && i + 1 < argc)
      sides.push_back({build = argv[++i], true});
    else if (a.rfind("-p=", 0) == 0)
      sides.push_back({build = a.substr(3), true});
    else if (a == "--json")
      as_json = true;
    else if (a == "--allow-lossy" && cmd == "diff")
      allow_lossy = true;
    else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "checksync-schema: unknown option %s\n%s", a.c_str(), kUsage);
      return 1;
    } else {
      files.push_back(a);
      sides.push_back({a, false});
    }
  }
  if (cmd == "diff") {
    if (sides.size() != 2) {
      std::fprintf(stderr,
                   "checksync-schema diff: give OLD and NEW, each a checkpoint or -p BUILD_DIR\n%s",
                   kUsage);
      return 1;
    }
    return diff(sides[0], sides[1], allow_lossy);
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
  int found = check(*db, collected);
  if (rc != 0) {
    // A unit that could not be parsed was not checked: never report "clean".
    std::fprintf(stderr, "checksync-schema check: some translation units could not be processed "
                         "(above): they were not checked\n");
    return 2;
  }
  return found;
}
