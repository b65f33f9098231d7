// progress.h - a long operation's progress in the log (info level): nothing
// if it ends within 2 s; else a line every 2 s saying which step it is in,
// how far (bytes, when known) and for how long, and a last line with the
// time it took. A thread of its own does the reporting, so a single long
// step (decoding a large base) still shows it is alive.
#ifndef CHECKSYNC_RT_PROGRESS_H
#define CHECKSYNC_RT_PROGRESS_H

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace checksync::detail::log {

class Progress {
public:
  static constexpr std::chrono::milliseconds kEvery{2000};
  enum class Unit { Bytes, Objects };
  // `what`: the operation ("loading DIR"); `total`: its size (0: unknown).
  Progress(std::string what, std::uint64_t total, Unit unit = Unit::Bytes,
           std::chrono::milliseconds every = kEvery);
  ~Progress();
  Progress(const Progress &) = delete;
  Progress &operator=(const Progress &) = delete;

  void step(std::string name);                 // e.g. "reading the base"
  void done(std::uint64_t n) { done_ = n; } // of total, so far

private:
  void report_loop();
  std::string line(double seconds);

  const std::string what_;
  const std::uint64_t total_;
  const Unit unit_;
  const std::chrono::milliseconds every_;
  const std::chrono::steady_clock::time_point start_;
  std::atomic<std::uint64_t> done_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::string step_;
  bool stopping_ = false, reported_ = false;
  std::thread reporter_;
};

} // namespace checksync::detail::log

#endif
