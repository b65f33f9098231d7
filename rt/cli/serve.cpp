// serve.cpp - `checksync-rt serve`: listens, hands each connection to the
// backup (backup.h), and with --takeover resumes the program here when the
// primary falls silent (never with nothing durable).
#include "commands.h"
#include "ha/backup.h"
#include "ha/election.h"
#include "ha/etcd.h"
#include "ha/replicas.h"
#include "ha/server.h"
#include "log/log.h"
#include "status.h"

#include "store/chain.h"
#include "store/compactor.h"
#include "format/format.h"
#include "store/store.h"
#include "schema/types.h"
#include "ha/wire.h"

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <filesystem>
#include <mutex>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace checksync::cli {
using namespace checksync::detail;
using namespace checksync::ha;
using Clock = std::chrono::steady_clock;

namespace {

BackupOptions backup_options(const ServeOptions &o, const std::string &secret) {
  BackupOptions bo;
  bo.dir = o.dir;
  bo.secret = secret;
  bo.compact_after = o.compact_after;
  bo.compact_ratio = o.compact_ratio;
  bo.compress_level = o.compress_level;
  bo.coordinated = !o.coordinator.empty();
  // Coordinated, a LEASE only says the link is alive (replicas.h); etcd decides who leads.
  bo.takeover_timeout_ms = o.takeover || bo.coordinated ? std::uint64_t(o.timeout_ms) : 0;
  return bo;
}

// The environment of the resumed program: ours, with `set` replacing or
// adding NAME=VALUE entries ("" values remove NAME). Built before fork: the
// election runs on its own thread, and setenv there would race getenv on
// the others.
std::vector<std::string>
child_environment(const std::vector<std::pair<std::string, std::string>> &set) {
  std::vector<std::string> env;
  for (char **e = environ; *e; ++e) {
    std::string entry = *e;
    std::string name = entry.substr(0, entry.find('='));
    bool replaced =
        std::any_of(set.begin(), set.end(), [&](const auto &kv) { return kv.first == name; });
    if (!replaced)
      env.push_back(entry);
  }
  for (const auto &[name, value] : set)
    if (!value.empty())
      env.push_back(name + "=" + value);
  return env;
}

// Starts `checksync-rt resume --from DIR --dir DIR -- PROGRAM ARGS` after a
// takeover. Returns its pid, or -1 (logged).
pid_t start_program(const ServeOptions &o, std::vector<std::string> env) {
  // The child only execs `checksync-rt resume` (this same binary): other
  // threads may hold locks at fork time, so nothing else runs in it.
  std::vector<std::string> args = {"checksync-rt", "resume", "--from", o.dir, "--dir", o.dir,
                                   "--"};
  args.insert(args.end(), o.command.begin(), o.command.end());
  std::vector<char *> argv, envp;
  for (auto &a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto &e : env)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  // The program's output stays out of this log (stderr): both of its
  // streams go to --program-log, or else to this process's stdout.
  int out_fd = 1;
  if (!o.program_log.empty()) {
    out_fd = ::open(o.program_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out_fd < 0) {
      LOG_ERROR("takeover failed: cannot open --program-log %s: %s", o.program_log.c_str(),
                std::strerror(errno));
      return -1;
    }
  }
  pid_t child = ::fork();
  if (child == 0) {
    ::dup2(out_fd, 1); // dup2 clears FD_CLOEXEC on the copies
    ::dup2(out_fd, 2);
    ::execve("/proc/self/exe", argv.data(), envp.data());
    std::_Exit(127);
  }
  if (out_fd != 1)
    ::close(out_fd);
  if (child < 0)
    LOG_ERROR("takeover failed: fork: %s", std::strerror(errno));
  return child;
}

// The takeover: when the primary has been silent for --timeout ms (never
// with nothing durable). Returns the program's pid, 0 to keep waiting, or -1.
pid_t maybe_take_over(const ServeOptions &o, Backup &backup, std::int64_t restart_grace_ms) {
  std::int64_t silent = now_ms() - backup.last_seen_ms;
  // What the backup waited for: the primary's silence, or (armed at start)
  // any primary since this restart.
  std::string waited = restart_grace_ms
                           ? "no primary connected within " + std::to_string(restart_grace_ms) +
                                 " ms of this restart"
                           : "no word from the primary for " + std::to_string(silent) + " ms";
  auto t0 = Clock::now();
  std::optional<std::uint64_t> epoch;
  try {
    epoch = backup.take_over();
  } catch (const Error &e) {
    LOG_ERROR("takeover failed: %s", e.what());
    return -1;
  }
  if (!epoch) {
    // Starting the program with empty state would lose everything the
    // primary held; wait for a primary (this one, back, or a new one).
    LOG_WARN("%s, but no epoch is durable here: not taking over; waiting for a primary",
             waited.c_str());
    backup.seen_primary = false;
    return 0;
  }
  LOG_WARN("takeover: %s; resuming %s from epoch %llu", waited.c_str(), o.command[0].c_str(),
           (unsigned long long)*epoch);
  // Shipping on to the next backup, or checkpointing into DIR (resume sets
  // CHECKSYNC_DIR; the runtime ships instead when CHECKSYNC_BACKUP is set).
  pid_t child = start_program(o, child_environment({{"CHECKSYNC_BACKUP", o.ship_to}}));
  if (child < 0)
    return -1; // start_program said why
  auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
  LOG_INFO("failover: program started as pid %d, %lld ms after the primary's last message "
           "(detection %lld ms + takeover %lld ms)",
           int(child), (long long)(silent + spent.count()), (long long)silent,
           (long long)spent.count());
  return child;
}

// A coordinated takeover, once the election (election.h) won the leader key:
// fence, then resume the program as the leader of generation w.revision,
// shipping to --ship-to or else to the other registered backups.
pid_t take_over_as_leader(const ServeOptions &o, Backup &backup, const Win &w) {
  std::optional<std::uint64_t> epoch;
  try {
    epoch = backup.take_over(std::uint64_t(w.revision));
  } catch (const Error &e) {
    LOG_ERROR("takeover failed: %s", e.what());
    return -1;
  }
  if (!epoch) {
    LOG_ERROR("takeover failed: no epoch is durable here");
    return -1;
  }
  std::string ship_to;
  for (const std::string &b : w.targets)
    ship_to += (ship_to.empty() ? "" : ",") + b;
  LOG_WARN("takeover: resuming %s from epoch %llu as the leader of '%s' (generation %lld)%s%s",
           o.command[0].c_str(), (unsigned long long)*epoch, o.service.c_str(),
           (long long)w.revision, ship_to.empty() ? "" : ", shipping to ", ship_to.c_str());
  return start_program(o,
                       child_environment({{"CHECKSYNC_BACKUP", ship_to},
                                          {"CHECKSYNC_QUORUM", w.quorum},
                                          {"CHECKSYNC_COORDINATOR", o.coordinator},
                                          {"CHECKSYNC_SERVICE", o.service},
                                          {"CHECKSYNC_LEASE_MS", std::to_string(o.lease_ms)},
                                          {"CHECKSYNC_LEADER_REVISION", std::to_string(w.revision)},
                                          {"CHECKSYNC_LEADER_SINCE_US", std::to_string(w.sent_us)},
                                          {"CHECKSYNC_LEADER_NONCE", std::to_string(w.nonce)}}));
}

// serve's timers, on the event loop next to the connections (server.h).
class Loop {
public:
  Loop(const ServeOptions &o, Backup &b, std::string bound)
      : o_(o), b_(b), bound_(std::move(bound)), status_timer_(io_), takeover_timer_(io_),
        child_exit_(io_, SIGCHLD) {}
  asio::io_context &io() { return io_; }

  int run() {
    write_status_now();
    if (o_.takeover && o_.coordinator.empty()) { // coordinated: election.h decides
      arm_after_restart();
      check_takeover();
    }
    io_.run();
    return code_;
  }

private:
  // For `checksync-rt status DIR`, once a second.
  void write_status_now() {
    write_status(o_.dir,
                 status_json(o_.dir, bound_, o_.takeover, o_.timeout_ms, b_.status(), o_.service));
    status_timer_.expires_after(std::chrono::seconds(1));
    status_timer_.async_wait([this](const asio::error_code &ec) {
      if (!ec)
        write_status_now();
    });
  }

  // Restart-safe takeover (issue 16): the directory says a primary was served
  // (DIR/generation) and holds its durable state, so a serve restarted after
  // the primary died must not wait for a primary that will never connect.
  // The grace covers the primary's reconnection backoff (at most 1 s).
  void arm_after_restart() {
    BackupStatus st = b_.status();
    if (b_.seen_primary || st.durable == 0 || st.generation == 0)
      return;
    std::int64_t grace = std::max(o_.restart_grace_ms, o_.timeout_ms);
    b_.last_seen_ms = now_ms() + (grace - o_.timeout_ms); // silent for timeout_ms at grace
    b_.seen_primary = true;
    restart_mark_ = b_.last_seen_ms; // changes when a primary connects
    restart_grace_ms_ = grace;
    LOG_INFO("holding epoch %llu of an earlier primary (generation %llu): taking over unless a "
             "primary connects within %lld ms",
             (unsigned long long)st.durable, (unsigned long long)st.generation, (long long)grace);
  }

  // Wakes when the newest primary would have been silent for --timeout ms
  // (or --timeout ms from now while none is connected), not on a poll.
  void check_takeover() {
    std::int64_t wait = o_.timeout_ms;
    if (b_.seen_primary) {
      std::int64_t silent = now_ms() - b_.last_seen_ms;
      if (silent >= o_.timeout_ms) {
        pid_t child =
            maybe_take_over(o_, b_, b_.last_seen_ms == restart_mark_ ? restart_grace_ms_ : 0);
        if (child < 0)
          return stop(2);
        if (child > 0)
          return wait_for(child);
      } else {
        wait = o_.timeout_ms - silent;
      }
    }
    takeover_timer_.expires_after(std::chrono::milliseconds(wait));
    takeover_timer_.async_wait([this](const asio::error_code &ec) {
      if (!ec)
        check_takeover();
    });
  }

public:
  // serve exits with the resumed program's status.
  void wait_for(pid_t child) {
    child_exit_.async_wait([this, child](const asio::error_code &ec, int) {
      if (ec)
        return;
      int status;
      if (::waitpid(child, &status, WNOHANG) != child)
        return wait_for(child);
      int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      LOG_INFO("resumed program exited with status %d", code);
      stop(code);
    }); // a SIGCHLD before this wait is queued by the signal_set
  }

  void stop(int code) {
    code_ = code;
    io_.stop();
  }

private:
  const ServeOptions &o_;
  Backup &b_;
  const std::string bound_;
  asio::io_context io_;
  asio::steady_timer status_timer_, takeover_timer_;
  std::int64_t restart_mark_ = -1, restart_grace_ms_ = 0; // arm_after_restart()
  asio::signal_set child_exit_; // SIGCHLD, registered before any fork
  int code_ = 0;
};

} // namespace

int run_serve(const ServeOptions &o) {
  log::set_name("checksync-rt serve");
  log::Level level = log::Level::info;
  log::parse_level(o.log_level.c_str(), level); // CLI11 checked the word
  log::set_level(level);
  const char *secret_env = std::getenv("CHECKSYNC_SECRET");
  if (!secret_env || !*secret_env) {
    LOG_ERROR("set CHECKSYNC_SECRET (the secret shared with the primary)");
    return 1;
  }
  if (o.takeover && o.command.empty()) {
    LOG_ERROR("--takeover needs -- PROGRAM ARGS");
    return 1;
  }
  if (o.coordinator.empty() != o.service.empty()) {
    LOG_ERROR("--coordinator and --service go together");
    return 1;
  }
  if (!o.coordinator.empty()) {
    try {
      etcd::parse_url(o.coordinator);
    } catch (const Error &e) {
      LOG_ERROR("--coordinator: %s", e.what());
      return 1;
    }
  }
  if (!o.ship_to.empty()) {
    try {
      for (const auto &b : split_backups(o.ship_to))
        wire::parse_endpoint(b);
    } catch (const Error &e) {
      LOG_ERROR("--ship-to: %s", e.what());
      return 1;
    }
  }
  if (!o.quorum.empty()) {
    try {
      parse_quorum(o.quorum, 1000); // the number of backups is known at the takeover
    } catch (const Error &e) {
      LOG_ERROR("--quorum: %s", e.what());
      return 1;
    }
  }
  if (!o.ship_to.empty()) {
    if (!o.takeover) {
      LOG_ERROR("--ship-to needs --takeover (it is where the resumed program ships)");
      return 1;
    }
  }
  std::signal(SIGPIPE, SIG_IGN);
  int lfd;
  std::string bound_text;
  // Never destroyed: a primary's Link threads may still run when serve
  // returns (the process exits right after).
  Backup *backup;
  try {
    lfd = wire::listen_on(wire::parse_endpoint(o.listen), &bound_text);
    backup = new Backup(backup_options(o, secret_env));
  } catch (const Error &e) {
    LOG_ERROR("%s", e.what());
    return 2;
  }
  backup->set_status_report([&o, bound_text, backup] {
    return status_json(o.dir, bound_text, o.takeover, o.timeout_ms, backup->status(), o.service);
  });
  // How primaries and the other backups reach this one (election.h): as
  // given, so `--ship-to hostB:7400` on another host and this backup's
  // registration name it alike.
  std::string advertised = o.advertise;
  if (advertised.empty()) {
    wire::Endpoint ep = wire::parse_endpoint(o.listen);
    if (ep.host.empty() || ep.host == "0.0.0.0" || ep.host == "::" || ep.host == "*") {
      if (!o.coordinator.empty()) {
        LOG_ERROR("--listen %s is every address: give --advertise HOST:PORT, the address "
                  "primaries and the other backups reach this one at",
                  o.listen.c_str());
        return 1;
      }
    }
    advertised = ep.port == "0" ? bound_text : o.listen;
  }
  // Never destroyed, like *backup: the election's thread may use it until exit.
  Loop &loop = *new Loop(o, *backup, bound_text);
  Server server(loop.io(), *backup, lfd);
  if (!o.coordinator.empty()) {
    ElectionOptions eo;
    eo.url = o.coordinator;
    eo.service = o.service;
    eo.addr = advertised;
    eo.secret = secret_env;
    eo.takeover = o.takeover;
    eo.lease_ms = o.lease_ms;
    if (!o.ship_to.empty())
      eo.ship_to = split_backups(o.ship_to);
    eo.quorum = o.quorum;
    // Never destroyed, like *backup: its thread may still run when serve returns.
    new Election(eo, *backup, [&o, backup, &loop](const Win &w) {
      pid_t child = take_over_as_leader(o, *backup, w);
      if (child <= 0)
        return false;
      asio::post(loop.io(), [&loop, child] { loop.wait_for(child); });
      return true;
    });
  }
  LOG_INFO("listening on %s%s", bound_text.c_str(),
           o.takeover
               ? (" (takeover after " + std::to_string(o.timeout_ms) + " ms of silence)").c_str()
               : "");
  int code = loop.run();
  // Not a return: the election's and the links' threads run on, and static
  // destructors would race them (and could replace the program's status).
  std::fflush(nullptr);
  std::_Exit(code);
}

} // namespace checksync::cli
