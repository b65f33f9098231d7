# lit configuration for CheckSync. Substitutions:
#   %clangxx      clang++-19
#   %plugin       the build tree's clang plugin (checksync.so)
#   %passplugin   the build tree's standalone pass plugin (CheckSyncPass.so), for opt
#   %opt          opt-19
#   %prefix       an installed prefix (ctest installs it before running lit)
#   %cs_cxx       clang++-19 -std=c++20 -O2 $(checksync-config --cxxflags), as a user compiles
#   %cs_ldflags   $(checksync-config --ldflags)
#   %csrt         the installed checksync-rt
import os
import lit.formats

config.name = "checksync"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".cpp", ".ll", ".test"]
config.excludes = ["Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.binary_dir, "lit-tests")

config.environment["PATH"] = os.pathsep.join(
    [config.llvm_tools_dir, config.environment.get("PATH", os.environ.get("PATH", ""))])
for var in ("HOME", "TMPDIR"):
    if var in os.environ:
        config.environment[var] = os.environ[var]

cfg = os.path.join(config.test_prefix, "bin", "checksync-config")
config.substitutions.append(("%clangxx", config.clangxx))
config.substitutions.append(("%passplugin", config.pass_plugin))
config.substitutions.append(("%plugin", config.plugin))
config.substitutions.append(("%opt", os.path.join(config.llvm_tools_dir, "opt")))
config.substitutions.append(("%prefix", config.test_prefix))
config.substitutions.append(
    ("%cs_cxx", "%s -std=c++20 -O2 $(%s --cxxflags)" % (config.clangxx, cfg)))
config.substitutions.append(("%cs_ldflags", "$(%s --ldflags)" % cfg))
config.substitutions.append(("%csrt", os.path.join(config.test_prefix, "bin", "checksync-rt")))

# Tests that drive checksync-kv with Redis's own clients need redis-tools.
import shutil
if shutil.which("redis-cli") and shutil.which("redis-benchmark"):
    config.available_features.add("redis-tools")
