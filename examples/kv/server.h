// server.h - checksync-kv's server: options, connections, and the Server
// class whose commands live in commands.cpp and whose event loop,
// checkpoints and INFO live in kv.cpp.
#ifndef CHECKSYNC_KV_SERVER_H
#define CHECKSYNC_KV_SERVER_H

#include "resp.h"
#include "snapshot.h"
#include "table.h"

#include <checksync/checksync.h>

#include <charconv>
#include <chrono>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

extern kv::Table *kv_table; // the [[checksync::root]] (kv.cpp)

namespace kv::server {


using kv::resp::array;
using kv::resp::bulk;
using kv::resp::error;
using kv::resp::integer;
using kv::resp::nil;
using kv::resp::simple;

enum class Mode { None, Checksync, Full, Fork };

struct Options {
  int port = 6379;
  std::string bind = "127.0.0.1";
  Mode mode = Mode::Checksync;
  int checkpoint_ms = 100;
  bool sync = false;
  std::string dir;
  std::string requirepass; // empty: no AUTH needed
  std::size_t max_bulk = 64u << 20;          // one argument
  std::size_t query_limit = 128u << 20;      // unparsed input of one client
  std::size_t output_limit = 64u << 20;      // unsent replies of one client
};

inline std::int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

struct Conn {
  int fd;
  std::string in, out;
  std::size_t pos = 0, out_pos = 0;
  bool close_after = false;
  bool want_write = false;
  bool authed = false;
};

inline bool parse_ll(std::string_view s, long long &v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

inline bool ieq(std::string_view a, const char *b) {
  std::size_t n = std::strlen(b);
  if (a.size() != n)
    return false;
  for (std::size_t i = 0; i < n; ++i)
    if (std::toupper(static_cast<unsigned char>(a[i])) != b[i])
      return false;
  return true;
}

// Compares without an early exit, so timing does not reveal the password.
inline bool same_secret(std::string_view a, std::string_view b) {
  unsigned char d = a.size() != b.size();
  for (std::size_t i = 0; i < a.size(); ++i)
    d |= static_cast<unsigned char>(a[i] ^ b[i % (b.size() ? b.size() : 1)]);
  return d == 0;
}

// now + amount * unit_ms, or false if it does not fit (Redis: "invalid
// expire time") or amount is not positive.
inline bool expire_at(std::int64_t now, long long amount, std::int64_t unit_ms, std::int64_t &at) {
  if (amount <= 0 || amount > (INT64_MAX - now) / unit_ms)
    return false;
  at = now + amount * unit_ms;
  return true;
}

class Server {
public:
  Server(const Options &o) : o_(o), store_(kv_table) {}
  int run();

private:
  // Executes one request; returns true if it changed the state.
  bool execute(Conn &c, const std::vector<std::string_view> &a);
  using Args = std::vector<std::string_view>;
  bool cmd_auth(Conn &c, const Args &a, std::int64_t now);
  bool cmd_get(Conn &c, const Args &a, std::int64_t now);
  bool cmd_set(Conn &c, const Args &a, std::int64_t now);
  bool cmd_del_exists(Conn &c, const Args &a, std::int64_t now);
  bool cmd_incr(Conn &c, const Args &a, std::int64_t now);
  bool cmd_expire(Conn &c, const Args &a, std::int64_t now);
  bool cmd_ttl(Conn &c, const Args &a, std::int64_t now);
  bool cmd_config(Conn &c, const Args &a, std::int64_t now);
  bool cmd_flushall(Conn &c, const Args &a, std::int64_t now);
  bool cmd_simple(Conn &c, const Args &a, std::int64_t now);
  void info(std::string &out);
  void on_readable(Conn &c);
  void flush(Conn &c);
  void close_conn(int fd);
  void after_batch(bool wrote);

  const Options &o_;
  kv::Store store_;
  int ep_ = -1, lfd_ = -1;
  std::unordered_map<int, std::unique_ptr<Conn>> conns_;
  std::vector<std::string_view> args_;
  std::chrono::steady_clock::time_point next_snapshot_, next_expire_;
  kv::ForkSnapshotter fork_;
  std::uint64_t snapshots_ = 0, unsynced_writes_ = 0;
  // Totals since start, for benchmarks (INFO): bytes written, 4 KiB pages a
  // page-granular checkpointer would have copied, and every pause.
  std::uint64_t total_bytes_ = 0; // --snapshot=full/fork (checksync: its own totals)
  std::vector<std::uint32_t> pauses_us_;
  std::int64_t last_checkpoint_ms_ = 0; // wall clock of the last checkpoint or snapshot
  std::uint64_t dropped_seen_ = 0, err_epoch_ = 0; // the newest drop, and the epoch then
  void checkpoint_taken();
};

} // namespace kv::server

#endif
