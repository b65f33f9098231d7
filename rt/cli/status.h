// status.h - serve's status file and `checksync-rt status` (status.cpp).
#ifndef CHECKSYNC_CLI_STATUS_H
#define CHECKSYNC_CLI_STATUS_H

#include "ha/backup.h"

#include <string>

namespace checksync::cli {

// What serve reports: to DIR/serve-status.json and to `status HOST:PORT`.
std::string status_json(const std::string &dir, const std::string &listen, bool takeover,
                        int timeout_ms, const ha::BackupStatus &st,
                        const std::string &service = "");
// Rewrites DIR/serve-status.json (atomically; best effort).
void write_status(const std::string &dir, const std::string &text);

} // namespace checksync::cli

#endif
