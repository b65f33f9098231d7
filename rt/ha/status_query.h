// status_query.h - asks a running `checksync-rt serve` what it holds, over
// its port: CHALLENGE, STATUS_QUERY, STATUS, each side proving it holds the
// secret (docs/protocol.md). Not a primary: it changes no generation and
// fences nobody. Used by `checksync-rt status HOST:PORT` and by the election
// (election.h), which must not trust registrations that may lag.
#ifndef CHECKSYNC_HA_STATUS_QUERY_H
#define CHECKSYNC_HA_STATUS_QUERY_H

#include "schema/types.h"

#include <string>

namespace checksync::ha {

// code: 2 unreachable or a bad answer, 4 a wrong secret on either side.
struct StatusQueryFailure : detail::Error {
  int code;
  StatusQueryFailure(int c, const std::string &m) : detail::Error(m), code(c) {}
};

// serve's status JSON (status_json in rt/cli/status.cpp); throws StatusQueryFailure.
std::string query_status(const std::string &target, const std::string &secret, int timeout_ms);

} // namespace checksync::ha

#endif
