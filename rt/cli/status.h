// status.h - serve's status file and `checksync-rt status` (status.cpp).
#ifndef CHECKSYNC_CLI_STATUS_H
#define CHECKSYNC_CLI_STATUS_H

#include "ha/backup.h"

#include <string>

namespace checksync::cli {

// Rewrites DIR/serve-status.json (atomically; best effort).
void write_status(const std::string &dir, const std::string &listen, bool takeover,
                  int timeout_ms, const ha::BackupStatus &st);

} // namespace checksync::cli

#endif
