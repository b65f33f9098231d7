// checksync-rt: the CheckSync command line (resume, inspect, serve, run,
// options).
#include "commands.h"
#include "log/log.h"

#include "settings/options.h"

#include <cstdio>
#include <set>
#include <string>

#include <CLI/CLI.hpp>

namespace {

// One function per subcommand's options: its flags, their ranges and help.
CLI::App *add_resume(CLI::App &app, checksync::cli::ResumeOptions &ro) {
  auto *resume = app.add_subcommand(
      "resume", "Run PROGRAM so that checksync::init() restores the newest complete "
                "checkpoint in DIR (or the given FILE); checksync::resumed() is then true");
  resume->add_option("--from", ro.from, "Checkpoint directory or file")->required();
  resume->add_option("--dir", ro.dir,
                     "Where the resumed program writes new checkpoints "
                     "(default: CHECKSYNC_DIR if set, else --from when it is a directory)");
  resume->add_flag("--allow-lossy", ro.allow_lossy,
                   "A checkpoint of another build may be resumed although a field narrowed or "
                   "changed between integer and floating point: values that do not fit are "
                   "clamped, and each field's count is logged (CHECKSYNC_ALLOW_LOSSY=1)");
  resume->add_option("command", ro.command, "-- PROGRAM ARGS...")->required();

  return resume;
}

CLI::App *add_inspect(CLI::App &app, checksync::cli::InspectOptions &io) {
  auto *inspect = app.add_subcommand(
      "inspect", "Show a checkpoint: epochs, per-checkpoint metrics, types with object counts and bytes, roots, "
                 "unreachable objects that were not written");
  inspect->add_option("path", io.path, "Checkpoint directory or file")->required();
  inspect->add_flag("--json", io.json, "Machine-readable output");
  inspect->add_option("--diff", io.diff,
                      "E1 E2: objects added, removed and changed (with the fields that "
                      "differ) from epoch E1 to E2, both held in the directory")
      ->expected(2);
  inspect->add_option("--limit", io.limit, "With --diff: objects listed per kind (text)")
      ->capture_default_str();
  inspect->add_flag("--dot", io.dot,
                    "The object graph for Graphviz (checksync-rt inspect DIR --dot | dot -Tsvg)");
  inspect->add_option("--max-nodes", io.max_nodes,
                      "With --dot: objects drawn, breadth-first from the roots")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t(1), std::size_t(1) << 24));
  inspect->add_flag("--objects", io.objects,
                    "Also print every object field by field (names from the schema, refs "
                    "as #id, or #id+offset for a pointer inside an object)");

  return inspect;
}

CLI::App *add_serve(CLI::App &app, checksync::cli::ServeOptions &so) {
  auto *serve = app.add_subcommand(
      "serve", "The backup: accept one authenticated primary at a time, store its "
               "checkpoints durably in DIR (acknowledging each epoch once fsync'ed), compact "
               "them in the background; with --takeover, resume PROGRAM here when the "
               "primary falls silent. Needs CHECKSYNC_SECRET.");
  serve->add_option("--listen", so.listen, "HOST:PORT to listen on (port 0: any)")->required();
  serve->add_option("--dir", so.dir, "Where checkpoints are stored")->required();
  serve->add_flag("--takeover", so.takeover,
                  "Resume PROGRAM from DIR when the primary sends nothing for --timeout ms "
                  "(only once an epoch is durable: else it waits for a primary; armed by a "
                  "primary connecting, or at start when DIR holds an earlier primary's "
                  "durable epoch: see --restart-grace)");
  serve
      ->add_option("--restart-grace", so.restart_grace_ms,
                   "With --takeover, after a restart on a DIR that holds an earlier primary's "
                   "durable epoch: take over if no primary connects within this many ms (the "
                   "primary reconnects within about 1 s)")
      ->check(CLI::Range(1, 3600000))
      ->capture_default_str();
  serve->add_option("--timeout", so.timeout_ms, "Silence (ms) before a takeover")
      ->capture_default_str()
      ->check(CLI::Range(10, 3600000));
  serve->add_option("--compact-after", so.compact_after,
                    "Merge base + deltas after this many deltas (0: never by count)")
      ->capture_default_str();
  serve->add_option("--compact-ratio", so.compact_ratio,
                    "Merge once the deltas' bytes exceed this multiple of the base's "
                    "(0: never by size)")
      ->capture_default_str();
  serve->add_option("--compress-level", so.compress_level,
                    "zstd level of the merged bases stored (0: uncompressed)")
      ->capture_default_str()
      ->check(CLI::Range(0, 19));
  serve
      ->add_option("--log-level", so.log_level,
                   "Least severe message logged: error, warning, info, debug (debug: also "
                   "every stored epoch)")
      ->capture_default_str()
      ->check(CLI::IsMember({"error", "warning", "warn", "info", "debug"}));
  serve->add_flag_callback(
      "-v,--verbose", [&so] { so.log_level = "debug"; }, "Same as --log-level debug");
  serve->add_flag_callback(
      "-q,--quiet", [&so] { so.log_level = "warning"; }, "Same as --log-level warning");
  serve->add_option("--ship-to", so.ship_to,
                    "With --takeover: the resumed program ships its checkpoints to the backup "
                    "at HOST:PORT (another `checksync-rt serve`, same CHECKSYNC_SECRET), so the "
                    "service stays protected after the failover; without it, the program "
                    "checkpoints into DIR only");
  serve->add_option("--program-log", so.program_log,
                    "With --takeover: append the resumed program's stdout and stderr to this "
                    "file (default: serve's stdout; serve's own log is its stderr)");
  serve->add_option("--coordinator", so.coordinator,
                    "etcd://HOST:PORT[,HOST:PORT...]: leadership is on etcd instead of the "
                    "primary's heartbeats. This backup registers what it holds; with "
                    "--takeover it takes over only by winning the service's leader key, once "
                    "the leader stopped renewing it for longer than its lease (or released "
                    "it), after hearing from enough backups to cover every quorum of the old "
                    "leader, and only if none holds newer state. Primaries must use the same "
                    "--coordinator and --service");
  serve->add_option("--service", so.service, "With --coordinator: the service's name");
  serve->add_option("--advertise", so.advertise,
                    "With --coordinator: HOST:PORT at which primaries and the other backups "
                    "reach this one, as they name it in --backup and --ship-to (default: "
                    "--listen as given; required when --listen is a wildcard address)");
  serve
      ->add_option("--lease-ms", so.lease_ms,
                   "With --coordinator --takeover: the lease of the program resumed here (how "
                   "long it may serve without renewing its leadership)")
      ->capture_default_str()
      ->check(CLI::Range(100, 600000));
  serve->add_option("--quorum", so.quorum,
                    "With --takeover: how many of the resumed program's backups acknowledge an "
                    "epoch before it is durable: majority (default), all or a number (at most "
                    "the number of backups it ships to). With two backups, 1 keeps the service "
                    "writable while one host is down, and a failover then needs both to "
                    "answer");
  serve->add_option("command", so.command, "-- PROGRAM ARGS... (with --takeover)");

  return serve;
}

} // namespace

int main(int argc, char **argv) {
  using namespace checksync::cli;
  CLI::App app{"checksync-rt: run, back up, resume and inspect CheckSync programs"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("checksync-rt ") + CHECKSYNC_VERSION);
  // Program arguments are easily taken for ours: say where they go.
  app.footer("Give PROGRAM and its arguments after --, e.g.\n"
             "  checksync-rt resume --from DIR -- ./app --port 7000");

  ResumeOptions ro;
  InspectOptions io;
  ServeOptions so;
  CLI::App *resume = add_resume(app, ro);
  CLI::App *inspect = add_inspect(app, io);
  CLI::App *serve = add_serve(app, so);
  (void)inspect; // the default command below

  RunOptions rno;
  auto *run = app.add_subcommand(
      "run", "Run PROGRAM with its checkpoints shipped to the backups at HOST:PORT "
             "(sets CHECKSYNC_BACKUP and the other variables below; needs CHECKSYNC_SECRET)");
  run->add_option("--backup", rno.backup,
                  "HOST:PORT of `checksync-rt serve`, or several separated by commas: every "
                  "checkpoint goes to each")
      ->required();
  run->add_option("--quorum", rno.quorum,
                  "With several backups: how many must acknowledge an epoch before it is "
                  "durable (wait_durable): majority (default), all, or a number "
                  "(CHECKSYNC_QUORUM)");
  run->add_option("--coordinator", rno.coordinator,
                  "etcd://HOST:PORT[,HOST:PORT...]: lead the service on etcd; the program "
                  "starts only if the service has no leader (none, or one that exited "
                  "cleanly), stops serving (is_leader() false) when it cannot renew its "
                  "leadership within its lease, and exits with status 5 once another leads "
                  "(CHECKSYNC_COORDINATOR)");
  run->add_option("--service", rno.service,
                  "With --coordinator: the service's name "
                  "(CHECKSYNC_SERVICE)");
  run->add_option("--lease-ms", rno.lease_ms,
                  "With --coordinator: the leadership's lease in ms (CHECKSYNC_LEASE_MS, "
                  "default 1000)")
      ->check(CLI::Range(100, 600000));
  run->add_option("command", rno.command, "-- PROGRAM ARGS...")->required();

  StatusOptions sto;
  auto *status = app.add_subcommand(
      "status", "What `checksync-rt serve` is doing: generation, durable epoch, the primary "
                "and its last message, takeover, store size, compaction. DIR: read from "
                "DIR/serve-status.json, which serve rewrites every second (exit 3 if stale); "
                "HOST:PORT: asked over serve's port, authenticated with CHECKSYNC_SECRET "
                "(exit 2 unreachable, 4 wrong secret)");
  status->add_option("target", sto.dir, "serve's --dir, or its HOST:PORT")->required();
  status->add_flag("--json", sto.json, "Machine-readable output");
  status->add_option("--timeout", sto.timeout_ms, "HOST:PORT: ms to wait for serve")
      ->capture_default_str()
      ->check(CLI::Range(10, 600000));

  bool test_hooks = false;
  auto *opts = app.add_subcommand(
      "options", "List the CHECKSYNC_* environment variables a CheckSync program reads: "
                 "meaning, type, range, default and the value set here. A value out of "
                 "range stops the program at checksync::init() (exit 3).");
  opts->add_flag("--test-hooks", test_hooks, "Also list the settings that exist for tests");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    static const std::set<std::string> commands = {"resume", "inspect", "serve", "run",
                                                   "status", "options"};
    if (argc > 1 && argv[1][0] != '-' && !commands.count(argv[1])) {
      std::fprintf(stderr, "checksync-rt: unknown command '%s' (commands: resume, inspect, "
                           "serve, run, status, options; --help)\n", argv[1]);
      return 1;
    }
    int rc = app.exit(e);
    if (dynamic_cast<const CLI::ExtrasError *>(&e))
      std::fprintf(stderr, "(program arguments go after --: checksync-rt %s ... -- PROGRAM "
                           "ARGS)\n", argc > 1 ? argv[1] : "resume");
    return rc == 0 ? 0 : 1;
  }
  // Library messages (progress of long operations) name the command.
  static std::string log_name = "checksync-rt " + app.get_subcommands().front()->get_name();
  checksync::detail::log::set_name(log_name.c_str());
  if (*resume)
    return run_resume(ro);
  if (*serve)
    return run_serve(so);
  if (*run)
    return run_run(rno);
  if (*status)
    return run_status(sto);
  if (*opts) {
    std::fputs(checksync::detail::options::describe(test_hooks).c_str(), stdout);
    return 0;
  }
  return io.diff.empty() ? run_inspect(io) : run_inspect_diff(io);
}
