// run.cpp - `checksync-rt run --backup HOST:PORT -- PROGRAM ARGS`: runs the
// program with CHECKSYNC_BACKUP set, so its runtime ships every checkpoint to
// `checksync-rt serve` at HOST:PORT (CHECKSYNC_SECRET must be set).
#include "commands.h"

#include "schema/types.h"
#include "ha/wire.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace checksync::cli {

int run_run(const RunOptions &opts) {
  try {
    detail::wire::parse_endpoint(opts.backup);
  } catch (const detail::Error &e) {
    std::fprintf(stderr, "checksync-rt run: %s\n", e.what());
    return 1;
  }
  const char *secret = std::getenv("CHECKSYNC_SECRET");
  if (!secret || !*secret) {
    std::fprintf(stderr, "checksync-rt run: set CHECKSYNC_SECRET (the secret shared with "
                         "`checksync-rt serve`)\n");
    return 1;
  }
  ::setenv("CHECKSYNC_BACKUP", opts.backup.c_str(), 1);
  std::vector<char *> argv;
  for (auto &a : opts.command)
    argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  std::fprintf(stderr, "checksync-rt run: cannot run %s: %s\n", argv[0], std::strerror(errno));
  return 127;
}

} // namespace checksync::cli
