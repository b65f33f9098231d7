// progress.cpp - see progress.h.
#include "log/progress.h"

#include "log/log.h"

namespace checksync::detail::log {
namespace {
double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
std::string amount(std::uint64_t n, Progress::Unit unit) {
  char b[32];
  if (unit == Progress::Unit::Bytes)
    std::snprintf(b, sizeof b, "%.0f MB", double(n) / 1e6);
  else
    std::snprintf(b, sizeof b, "%llu objects", (unsigned long long)n);
  return b;
}
} // namespace

Progress::Progress(std::string what, std::uint64_t total, Unit unit,
                   std::chrono::milliseconds every)
    : what_(std::move(what)), total_(total), unit_(unit), every_(every),
      start_(std::chrono::steady_clock::now()) {
  if (enabled(Level::info))
    reporter_ = std::thread([this] { report_loop(); });
}

Progress::~Progress() {
  {
    std::lock_guard l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (reporter_.joinable())
    reporter_.join();
  if (reported_)
    LOG_INFO("%s: finished in %.1f s", what_.c_str(), seconds_since(start_));
}

void Progress::step(std::string name) {
  std::lock_guard l(mu_);
  step_ = std::move(name);
}

std::string Progress::line(double seconds) {
  std::string s = what_;
  if (!step_.empty())
    s += ": " + step_;
  std::uint64_t d = done_;
  if (total_) {
    char pct[16];
    std::snprintf(pct, sizeof pct, " (%.0f%%)", 100.0 * double(d) / double(total_));
    s += ", " + amount(d, unit_) + " of " + amount(total_, unit_) + pct;
  }
  char t[32];
  std::snprintf(t, sizeof t, ", %.0f s", seconds);
  return s + t;
}

void Progress::report_loop() {
  std::unique_lock l(mu_);
  while (!cv_.wait_for(l, every_, [this] { return stopping_; })) {
    reported_ = true;
    LOG_INFO("%s", line(seconds_since(start_)).c_str());
  }
}

} // namespace checksync::detail::log
