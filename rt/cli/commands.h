// commands.h - subcommands of checksync-rt. Exit codes: 0 success, 1 usage,
// 2 bad input (missing, corrupt or mismatched checkpoint), 127 exec failure.
#ifndef CHECKSYNC_CLI_COMMANDS_H
#define CHECKSYNC_CLI_COMMANDS_H

#include <string>
#include <vector>

namespace checksync::cli {

struct InspectOptions {
  std::string path;
  bool json = false;
  bool objects = false; // every object, field by field
};
int run_inspect(const InspectOptions &opts);

struct ResumeOptions {
  std::string from;
  std::string dir; // where the resumed program checkpoints; default: `from` if a directory
  std::vector<std::string> command;
};
int run_resume(const ResumeOptions &opts);

} // namespace checksync::cli

#endif
