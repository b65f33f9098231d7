// log.cpp - see log.h.
#include "log/log.h"

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <sys/time.h>

namespace checksync::detail::log {
namespace {

constexpr int kUnset = -1;
std::atomic<int> g_level{kUnset};
std::atomic<const char *> g_name{"checksync"};
std::mutex g_mu; // one line at a time, and the output and its arg together
log_output g_out = nullptr;
void *g_arg = nullptr;

} // namespace

bool parse_level(const char *t, Level &out) noexcept {
  static const struct {
    const char *name;
    Level level;
  } names[] = {{"error", Level::error}, {"warning", Level::warning}, {"warn", Level::warning},
               {"info", Level::info},   {"debug", Level::debug}};
  for (const auto &n : names)
    if (std::strcmp(t, n.name) == 0) {
      out = n.level;
      return true;
    }
  return false;
}

const char *level_name(Level l) noexcept {
  switch (l) {
  case Level::error: return "error";
  case Level::warning: return "warning";
  case Level::info: return "info";
  case Level::debug: return "debug";
  }
  return "?";
}

Level level() noexcept {
  int l = g_level.load(std::memory_order_relaxed);
  if (l == kUnset) {
    // Read directly (settings/ depends on log/, not the other way): a bad
    // value counts as info here, and init()'s check of every setting stops
    // the program with exit 3 (settings/options.cpp).
    Level parsed = Level::info;
    if (const char *v = std::getenv("CHECKSYNC_LOG_LEVEL"))
      parse_level(v, parsed);
    l = int(parsed);
    int expected = kUnset;
    g_level.compare_exchange_strong(expected, l, std::memory_order_relaxed);
    l = g_level.load(std::memory_order_relaxed);
  }
  return Level(l);
}

void set_level(Level l) noexcept { g_level.store(int(l), std::memory_order_relaxed); }

bool enabled(Level l) noexcept { return int(l) <= int(level()); }

void set_name(const char *name) noexcept { g_name.store(name, std::memory_order_relaxed); }

void write(Level l, const char *fmt, ...) noexcept {
  char line[2048];
  // UTC wall-clock time to the millisecond, as operators correlate logs.
  timeval tv;
  ::gettimeofday(&tv, nullptr);
  std::tm tm;
  ::gmtime_r(&tv.tv_sec, &tm);
  std::size_t n = std::strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
  int k = std::snprintf(line + n, sizeof line - n, ".%03dZ %s: ", int(tv.tv_usec / 1000),
                        g_name.load(std::memory_order_relaxed));
  n += std::size_t(k);
  if (l != Level::info)
    n += std::size_t(std::snprintf(line + n, sizeof line - n, "%s: ", level_name(l)));
  va_list ap;
  va_start(ap, fmt);
  int m = std::vsnprintf(line + n, sizeof line - n, fmt, ap);
  va_end(ap);
  if (m > 0 && n + std::size_t(m) >= sizeof line) // truncated: say so
    std::memcpy(line + sizeof line - 5, "...", 4);
  std::lock_guard lock(g_mu);
  if (g_out) {
    g_out(l, line, g_arg);
    return;
  }
  std::fputs(line, stderr);
  std::fputc('\n', stderr);
  std::fflush(stderr);
}

} // namespace checksync::detail::log

void checksync::set_log_output(log_output fn, void *arg) noexcept {
  std::lock_guard lock(detail::log::g_mu);
  detail::log::g_out = fn;
  detail::log::g_arg = arg;
}
