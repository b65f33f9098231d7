// log.h - the runtime's and serve's messages: one timestamped line each, with
// a level, filtered by CHECKSYNC_LOG_LEVEL (or serve --log-level), written to
// stderr or to the program's own output callback (checksync::set_log_output,
// as mimalloc's mi_register_output). Allocation-free: it may run inside the
// allocator, before main.
#ifndef CHECKSYNC_RT_LOG_H
#define CHECKSYNC_RT_LOG_H

#include <checksync/checksync.h>

namespace checksync::detail::log {

using Level = checksync::log_level;

// The level in force: CHECKSYNC_LOG_LEVEL unless set_level() was called.
Level level() noexcept;
void set_level(Level l) noexcept;
bool enabled(Level l) noexcept;

// "checksync" by default; serve uses "checksync-rt serve".
void set_name(const char *name) noexcept;

// Parses "error", "warning" (or "warn"), "info", "debug"; false otherwise.
bool parse_level(const char *text, Level &out) noexcept;
const char *level_name(Level l) noexcept;

void write(Level l, const char *fmt, ...) noexcept __attribute__((format(printf, 2, 3)));

} // namespace checksync::detail::log

#define CHECKSYNC_LOG(lvl, ...)                                                             \
  do {                                                                                      \
    if (::checksync::detail::log::enabled(::checksync::log_level::lvl))                     \
      ::checksync::detail::log::write(::checksync::log_level::lvl, __VA_ARGS__);            \
  } while (0)
#define LOG_ERROR(...) CHECKSYNC_LOG(error, __VA_ARGS__)
#define LOG_WARN(...) CHECKSYNC_LOG(warning, __VA_ARGS__)
#define LOG_INFO(...) CHECKSYNC_LOG(info, __VA_ARGS__)
#define LOG_DEBUG(...) CHECKSYNC_LOG(debug, __VA_ARGS__)

#endif
