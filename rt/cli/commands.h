// commands.h - subcommands of checksync-rt. Exit codes: 0 success, 1 usage,
// 2 bad input (missing, corrupt or mismatched checkpoint) or a serve failure,
// 127 exec failure; serve --takeover exits with the resumed program's status.
#ifndef CHECKSYNC_CLI_COMMANDS_H
#define CHECKSYNC_CLI_COMMANDS_H

#include <cstddef>
#include <string>
#include <vector>

namespace checksync::cli {

struct InspectOptions {
  std::string path;
  bool json = false;
  bool objects = false; // every object, field by field
  std::vector<unsigned long long> diff; // two epochs: what changed between them
  std::size_t limit = 20;               // --diff: objects listed per kind (text)
  bool dot = false;                     // the object graph for Graphviz
  std::size_t max_nodes = 500;          // --dot: objects drawn
};
int run_inspect(const InspectOptions &opts);
int run_inspect_diff(const InspectOptions &opts);

struct ResumeOptions {
  std::string from;
  std::string dir; // where the resumed program checkpoints; default: `from` if a directory
  bool allow_lossy = false; // CHECKSYNC_ALLOW_LOSSY=1 for the program
  std::vector<std::string> command;
};
int run_resume(const ResumeOptions &opts);

struct ServeOptions {
  std::string listen; // HOST:PORT
  std::string dir;
  bool takeover = false;
  int timeout_ms = 500; // silence before a takeover
  // A restarted serve holding an earlier primary's durable state takes over
  // if no primary connects within this (ms; at least timeout_ms).
  int restart_grace_ms = 3000;
  // After a takeover the resumed program ships to this backup (HOST:PORT):
  // protection goes on; empty: it checkpoints into DIR only.
  std::string ship_to;
  unsigned long long compact_after = 1024;
  double compact_ratio = 1.0;
  int compress_level = 1;
  std::string log_level = "info";
  std::vector<std::string> command; // with --takeover
  std::string program_log;          // the resumed program's stdout and stderr ("": our stdout)
  std::string secret;               // from CHECKSYNC_SECRET
  // Leadership on etcd (election.h): "etcd://HOST:PORT[,...]", the service's
  // name, and the lease of a program resumed here.
  std::string coordinator, service;
  int lease_ms = 1000;
  std::string quorum; // the resumed program's CHECKSYNC_QUORUM ("": its default)
  std::string advertise; // how others reach this backup ("": --listen as given)
};
int run_serve(const ServeOptions &opts);

struct StatusOptions {
  std::string dir; // serve's --dir, or its HOST:PORT
  bool json = false;
  int timeout_ms = 3000; // HOST:PORT: for the connection and each reply
};
int run_status(const StatusOptions &opts);

struct RunOptions {
  std::string backup; // HOST:PORT[,HOST:PORT...]
  std::string quorum; // "", majority, all or a number
  std::string coordinator, service;
  int lease_ms = 0; // 0: the runtime's default
  std::vector<std::string> command;
};
int run_run(const RunOptions &opts);

} // namespace checksync::cli

#endif
