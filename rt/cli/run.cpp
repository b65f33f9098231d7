// run.cpp - `checksync-rt run --backup HOST:PORT[,...] -- PROGRAM ARGS`: runs
// the program with CHECKSYNC_BACKUP set, so its runtime ships every
// checkpoint to each `checksync-rt serve` (CHECKSYNC_SECRET must be set), and
// with --coordinator, leads the service on etcd (leadership.h).
#include "commands.h"

#include "ha/etcd.h"
#include "ha/replicas.h"
#include "ha/wire.h"
#include "schema/types.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>

namespace checksync::cli {

int run_run(const RunOptions &opts) {
  try {
    auto backups = detail::split_backups(opts.backup);
    for (const auto &b : backups)
      detail::wire::parse_endpoint(b);
    if (!opts.quorum.empty())
      detail::parse_quorum(opts.quorum, backups.size());
    if (!opts.coordinator.empty())
      detail::etcd::parse_url(opts.coordinator);
    if (opts.coordinator.empty() != opts.service.empty())
      throw detail::Error("--coordinator and --service go together");
    if (opts.lease_ms && opts.coordinator.empty())
      throw detail::Error("--lease-ms needs --coordinator");
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
  if (!opts.quorum.empty())
    ::setenv("CHECKSYNC_QUORUM", opts.quorum.c_str(), 1);
  if (!opts.coordinator.empty()) {
    ::setenv("CHECKSYNC_COORDINATOR", opts.coordinator.c_str(), 1);
    ::setenv("CHECKSYNC_SERVICE", opts.service.c_str(), 1);
  }
  if (opts.lease_ms)
    ::setenv("CHECKSYNC_LEASE_MS", std::to_string(opts.lease_ms).c_str(), 1);
  std::vector<char *> argv;
  for (auto &a : opts.command)
    argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  std::fprintf(stderr, "checksync-rt run: cannot run %s: %s\n", argv[0], std::strerror(errno));
  return 127;
}

} // namespace checksync::cli
