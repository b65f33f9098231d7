// checksync-rt: the CheckSync command line (resume, inspect).
#include "commands.h"

#include <CLI/CLI.hpp>

int main(int argc, char **argv) {
  using namespace checksync::cli;
  CLI::App app{"checksync-rt: resume and inspect CheckSync checkpoints"};
  app.require_subcommand(1);

  ResumeOptions ro;
  auto *resume = app.add_subcommand(
      "resume", "Run PROGRAM so that checksync::init() restores the newest complete "
                "checkpoint in DIR (or the given FILE); checksync::resumed() is then true");
  resume->add_option("--from", ro.from, "Checkpoint directory or file")->required();
  resume->add_option("--dir", ro.dir,
                     "Where the resumed program writes new checkpoints "
                     "(default: CHECKSYNC_DIR if set, else --from when it is a directory)");
  resume->add_option("command", ro.command, "-- PROGRAM ARGS...")->required();

  InspectOptions io;
  auto *inspect = app.add_subcommand(
      "inspect", "Show a checkpoint: epochs, per-checkpoint metrics, types with object counts and bytes, roots, "
                 "unreachable objects that were not written");
  inspect->add_option("path", io.path, "Checkpoint directory or file")->required();
  inspect->add_flag("--json", io.json, "Machine-readable output");
  inspect->add_flag("--objects", io.objects,
                    "Also print every object field by field (names from the schema, refs "
                    "as #id, or #id+offset for a pointer inside an object)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e) == 0 ? 0 : 1;
  }
  if (*resume)
    return run_resume(ro);
  return run_inspect(io);
}
