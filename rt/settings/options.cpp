// options.cpp - see options.h.
#include "settings/options.h"
#include "log/log.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <unistd.h>

extern char **environ;

namespace checksync::detail::options {
namespace {

const Spec *find(const char *name) {
  for (const Spec &s : all())
    if (std::strcmp(s.name, name) == 0)
      return &s;
  return nullptr;
}

[[noreturn]] void bad(const Spec &s, const char *value, const std::string &expected) {
  log::write(log::Level::error, "%s=%s: expected %s (%s)", s.name, value, expected.c_str(), s.help);
  std::_Exit(3);
}

// Integers print as integers (not 1e+09).
std::string number(const Spec &s, double x) {
  char buf[32];
  if (s.kind == Kind::Uint)
    std::snprintf(buf, sizeof buf, "%llu", (unsigned long long)x);
  else
    std::snprintf(buf, sizeof buf, "%.15g", x);
  return buf;
}

std::string range_text(const Spec &s) {
  return std::string(s.kind == Kind::Uint ? "an integer" : "a number") + " from " +
         number(s, s.min) + " to " + number(s, s.max);
}

const char *raw(const Spec &s) {
  const char *v = std::getenv(s.name);
  return v && *v ? v : (*s.dflt ? s.dflt : nullptr);
}

std::uint64_t parse_uint(const Spec &s, const char *v) {
  errno = 0;
  char *end = nullptr;
  unsigned long long x = std::strtoull(v, &end, 10);
  if (*v == '-' || end == v || *end || errno == ERANGE || double(x) < s.min || double(x) > s.max)
    bad(s, v, range_text(s));
  return x;
}

double parse_real(const Spec &s, const char *v) {
  errno = 0;
  char *end = nullptr;
  double x = std::strtod(v, &end);
  if (end == v || *end || errno == ERANGE || !std::isfinite(x) || x < s.min || x > s.max)
    bad(s, v, range_text(s));
  return x;
}

// A Text value with choices must be one of them.
const char *parse_choice(const Spec &s, const char *v) {
  if (s.choices) {
    std::istringstream words(s.choices);
    std::string w;
    while (words >> w)
      if (w == v)
        return v;
    bad(s, v, std::string("one of: ") + s.choices);
  }
  return v;
}

bool parse_flag(const Spec &s, const char *v) {
  if (!std::strcmp(v, "1") || !std::strcmp(v, "true") || !std::strcmp(v, "yes"))
    return true;
  if (!std::strcmp(v, "0") || !std::strcmp(v, "false") || !std::strcmp(v, "no"))
    return false;
  bad(s, v, "1 or 0");
}

std::size_t edit_distance(const std::string &a, const std::string &b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

const Spec &spec(const char *name, Kind kind) {
  const Spec *s = find(name);
  if (!s || s->kind != kind) { // a runtime bug, not a user error
    std::fprintf(stderr, "checksync: internal error: option %s is not in the table\n", name);
    std::abort();
  }
  return *s;
}

} // namespace

const std::vector<Spec> &all() {
  static const std::vector<Spec> table = {
      {"CHECKSYNC_DIR", Kind::Text, 0, 0, "", "checkpoint into this directory"},
      {"CHECKSYNC_BACKUP", Kind::Text, 0, 0, "",
       "ship checkpoints to this backup (HOST:PORT of `checksync-rt serve`)"},
      {"CHECKSYNC_SECRET", Kind::Text, 0, 0, "", "the secret shared with the backup"},
      {"CHECKSYNC_QUORUM", Kind::Text, 0, 0, "majority",
       "with several backups, how many acknowledge an epoch before it is durable: majority, "
       "all or a number"},
      {"CHECKSYNC_COORDINATOR", Kind::Text, 0, 0, "",
       "lead the service on etcd (etcd://HOST:PORT[,HOST:PORT...])"},
      {"CHECKSYNC_SERVICE", Kind::Text, 0, 0, "", "the service's name on the coordinator"},
      {"CHECKSYNC_LEASE_MS", Kind::Uint, 100, 600000, "1000",
       "with a coordinator, how long the primary serves without renewing its leadership, ms"},
      {"CHECKSYNC_LEADER_REVISION", Kind::Uint, 0, 9e18, "0",
       "the leader key's revision `checksync-rt serve` won for this process (set by serve)"},
      {"CHECKSYNC_LEADER_NONCE", Kind::Uint, 0, 1.9e19, "0",
       "the nonce of serve's records while it renews for this process (set by serve)"},
      {"CHECKSYNC_LEADER_SINCE_US", Kind::Uint, 0, 9e18, "0",
       "when serve sent that winning write, CLOCK_BOOTTIME us (set by serve)"},
      {"CHECKSYNC_RESUME", Kind::Text, 0, 0, "",
       "restore this directory or file at init() (set by `checksync-rt resume`)"},
      {"CHECKSYNC_FULL_EVERY", Kind::Uint, 0, 1e9, "0",
       "make every Nth checkpoint full (0: only the first)"},
      {"CHECKSYNC_COMPACT_AFTER", Kind::Uint, 0, 1e9, "1024",
       "compact after this many deltas (0: never by count)"},
      {"CHECKSYNC_COMPACT_RATIO", Kind::Real, 0, 1e6, "1",
       "compact once the deltas' bytes exceed this multiple of the base's (0: never by size)"},
      {"CHECKSYNC_COMPRESS_LEVEL", Kind::Uint, 0, 19, "1",
       "zstd level of compacted bases (0: uncompressed)"},
      {"CHECKSYNC_HEARTBEAT_MS", Kind::Uint, 10, 60000, "100",
       "interval between heartbeats to the backup, ms"},
      {"CHECKSYNC_BACKUP_QUEUE_MB", Kind::Uint, 1, 1 << 20, "256",
       "checkpoint bytes queued for the backup before checkpoint() waits, MiB"},
      {"CHECKSYNC_EXIT_FLUSH_MS", Kind::Uint, 0, 3600000, "5000",
       "at exit, how long to wait for the backup to acknowledge, ms"},
      {"CHECKSYNC_HEAP_RESERVE_GB", Kind::Uint, 1, 1 << 16, "64",
       "address space reserved for persistent objects, GiB (halved until the OS agrees)"},
      {"CHECKSYNC_BACKGROUND_ENCODE", Kind::Flag, 0, 1, "1",
       "encode deltas on a background thread (0: inside checkpoint())"},
      {"CHECKSYNC_ALLOW_UNINSTRUMENTED", Kind::Flag, 0, 1, "0",
       "run even though a file was compiled without the plugin (its state is not saved)"},
      {"CHECKSYNC_ALLOW_LOSSY", Kind::Flag, 0, 1, "0",
       "a resume across builds may narrow fields or change int <-> float (values clamped)"},
      {"CHECKSYNC_LOG_LEVEL", Kind::Text, 0, 0, "info", "the least severe runtime message printed",
       false, "error warning warn info debug"},
      {"CHECKSYNC_VERIFY", Kind::Flag, 0, 1, "0",
       "check every epoch against a full image (slow; for tests)"},
      {"CHECKSYNC_VERIFY_COW", Kind::Flag, 0, 1, "0",
       "also encode each delta inside checkpoint() and abort if the background one differs", true},
      {"CHECKSYNC_TEST_ENCODE_DELAY_US", Kind::Uint, 0, 1e6, "0",
       "slow the encoder down by this many us per object", true},
      {"CHECKSYNC_TEST_START_DELAY_MS", Kind::Uint, 0, 600000, "0",
       "wait this long in init() before leading (a slow resume, for tests)", true},
      {"CHECKSYNC_TEST_STAMP_PERIOD", Kind::Uint, 0, 4e9, "0",
       "wrap the marking stamp after this many checkpoints", true},
      {"CHECKSYNC_TEST_MAX_FRAME", Kind::Uint, 0, 1e10, "0",
       "largest frame payload sent to the backup, bytes (0: the protocol's)", true},
      {"CHECKSYNC_TEST_ENOSPC_AFTER", Kind::Uint, 0, 1e9, "",
       "fail every checkpoint file written after the first N with ENOSPC", true},
  };
  return table;
}

std::uint64_t uint(const char *name) {
  const Spec &s = spec(name, Kind::Uint);
  const char *v = raw(s);
  return v ? parse_uint(s, v) : 0;
}

double real(const char *name) {
  const Spec &s = spec(name, Kind::Real);
  const char *v = raw(s);
  return v ? parse_real(s, v) : 0;
}

bool flag(const char *name) {
  const Spec &s = spec(name, Kind::Flag);
  const char *v = raw(s);
  return v && parse_flag(s, v);
}

std::string text(const char *name) {
  const Spec &s = spec(name, Kind::Text);
  const char *v = raw(s);
  return v ? parse_choice(s, v) : "";
}

bool is_set(const char *name) {
  const char *v = std::getenv(name);
  return v && *v;
}

void check_environment() {
  for (const Spec &s : all()) {
    const char *v = std::getenv(s.name);
    if (!v || !*v)
      continue;
    switch (s.kind) {
    case Kind::Uint: parse_uint(s, v); break;
    case Kind::Real: parse_real(s, v); break;
    case Kind::Flag: parse_flag(s, v); break;
    case Kind::Text:
      parse_choice(s, v);
      break;
    }
  }
  // A name close to a setting's is a typo that would otherwise be ignored.
  // (Other CHECKSYNC_* names are tools' own, e.g. the plugin's.)
  for (char **e = environ; e && *e; ++e) {
    if (std::strncmp(*e, "CHECKSYNC_", 10) != 0)
      continue;
    std::string name(*e, std::strcspn(*e, "="));
    if (find(name.c_str()))
      continue;
    for (const Spec &s : all())
      if (edit_distance(name, s.name) <= 2) {
        LOG_WARN("%s is not a CheckSync setting (ignored); did you mean %s?", name.c_str(), s.name);
        break;
      }
  }
}

std::string describe(bool with_test_hooks) {
  std::ostringstream o;
  for (const Spec &s : all()) {
    if (s.test && !with_test_hooks)
      continue;
    o << s.name << "\n    " << s.help << "\n    ";
    switch (s.kind) {
    case Kind::Flag: o << "0 or 1"; break;
    case Kind::Uint: o << "integer, " << number(s, s.min) << " to " << number(s, s.max); break;
    case Kind::Real: o << "number, " << number(s, s.min) << " to " << number(s, s.max); break;
    case Kind::Text:
      o << (s.choices ? std::string("one of: ") + s.choices : "text");
      break;
    }
    if (*s.dflt)
      o << "; default " << s.dflt;
    if (const char *v = std::getenv(s.name); v && *v) {
      if (std::strcmp(s.name, "CHECKSYNC_SECRET") == 0)
        o << "; set here (not shown)";
      else
        o << "; set here to " << v;
    }
    o << "\n";
  }
  return o.str();
}

} // namespace checksync::detail::options
