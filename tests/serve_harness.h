// serve_harness.h - a real `checksync-rt serve` for tests (serve_test.cpp,
// replicas_test.cpp), and the checkpoints and shipper options they use.
#ifndef CHECKSYNC_TESTS_SERVE_HARNESS_H
#define CHECKSYNC_TESTS_SERVE_HARNESS_H

#include "format/format.h"
#include "ha/shipper.h"
#include "ha/wire.h"
#include "test_types.h"

#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace serve_harness {
using namespace checksync::detail;
namespace w = checksync::detail::wire;

inline constexpr const char *kSecret = "test-secret";

// A serve process on an ephemeral port; its log is kept for assertions.
class Server {
public:
  explicit Server(const std::string &dir, std::vector<std::string> extra_env = {},
                  const std::string &listen = "127.0.0.1:0") {
    log_ = dir + ".log";
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 2);
      ::setenv("CHECKSYNC_SECRET", kSecret, 1);
      for (auto &e : extra_env)
        ::putenv(const_cast<char *>((new std::string(e))->c_str()));
      ::execl(CHECKSYNC_RT_BIN, CHECKSYNC_RT_BIN, "serve", "--listen", listen.c_str(), "--dir",
              dir.c_str(), "--compact-after", "0", "--compact-ratio", "0", "-v",
              static_cast<char *>(nullptr));
      std::_Exit(127);
    }
    for (int i = 0; i < 500 && port_.empty(); ++i) {
      ::usleep(10000);
      std::string l = log();
      auto at = l.find("listening on 127.0.0.1:");
      if (at != std::string::npos) {
        auto end = l.find_first_not_of("0123456789", at + 23);
        port_ = l.substr(at + 23, end - at - 23);
      }
    }
  }
  ~Server() { stop(SIGTERM); }
  void stop(int sig) {
    if (pid_ > 0) {
      ::kill(pid_, sig);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  std::string log() const {
    std::FILE *f = std::fopen(log_.c_str(), "r");
    std::string s;
    if (!f)
      return s;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
      s.append(buf, n);
    std::fclose(f);
    return s;
  }
  const std::string &port() const { return port_; }

  pid_t pid() const { return pid_; }

private:
  pid_t pid_ = -1;
  std::string log_, port_;
};

// Valid checkpoint bytes for an epoch (the content does not matter here).
inline std::string image(std::uint64_t epoch, bool full, std::uint64_t prev,
                         std::uint64_t chain = 0) {
  auto &s = cstest::registered();
  ImageInfo info;
  info.epoch = epoch;
  info.kind = full ? "full" : "delta";
  info.prev_epoch = full ? 0 : prev;
  info.chain_id = chain;
  return encode_image(info, s.types, s.roots, {}, {});
}

// A port nothing listens on (for a backup started later).
inline std::string free_port() {
  std::string bound;
  int fd = w::listen_on({"127.0.0.1", "0"}, &bound);
  ::close(fd);
  return bound.substr(bound.rfind(':') + 1);
}

inline ShipperOptions shipper_options(const std::string &port) {
  ShipperOptions o;
  o.backup = {"127.0.0.1", port};
  o.backup_text = "127.0.0.1:" + port;
  o.secret = kSecret;
  o.program = "serve_test";
  o.heartbeat_ms = 20;
  return o;
}

inline std::string temp_dir(const char *name) {
  std::string d = std::filesystem::temp_directory_path() /
                  ("checksync-serve-test-" + std::to_string(::getpid()) + name);
  std::filesystem::remove_all(d);
  return d;
}

} // namespace serve_harness

#endif
