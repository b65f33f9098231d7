// commands.cpp - checksync-kv's commands: one handler each, and the table
// that dispatches to them (see server.h).
#include "server.h"

namespace kv::server {

// One handler per command: what it replies, and whether it changed the
// state (a checkpoint is then due). `now` is the wall clock in ms.
using Args = std::vector<std::string_view>;

bool Server::cmd_auth(Conn &c, const Args &a, std::int64_t) {
  std::string &out = c.out;
  if (a.size() != 2 && a.size() != 3)
    return error(out, "ERR wrong number of arguments for 'auth' command"), false;
  if (o_.requirepass.empty())
    return error(out, "ERR AUTH <password> called without any password configured for "
                      "the default user. Are you sure your configuration is correct?"),
           false;
  bool ok = (a.size() == 2 || a[1] == "default") && same_secret(a.back(), o_.requirepass);
  c.authed = ok;
  if (ok)
    simple(out, "OK");
  else
    error(out, "WRONGPASS invalid username-password pair or user is disabled.");
  return false;
}

bool Server::cmd_get(Conn &c, const Args &a, std::int64_t now) {
  if (a.size() != 2)
    return error(c.out, "ERR wrong number of arguments for 'get' command"), false;
  if (const kv::Entry *e = store_.find(a[1], now))
    bulk(c.out, e->value);
  else
    nil(c.out);
  return false;
}

bool Server::cmd_set(Conn &c, const Args &a, std::int64_t now) {
  std::string &out = c.out;
  if (a.size() < 3)
    return error(out, "ERR wrong number of arguments for 'set' command"), false;
  std::int64_t expire = 0;
  bool nx = false, xx = false;
  for (std::size_t i = 3; i < a.size(); ++i) {
    long long v;
    if ((ieq(a[i], "EX") || ieq(a[i], "PX")) && i + 1 < a.size()) {
      if (!parse_ll(a[i + 1], v))
        return error(out, "ERR value is not an integer or out of range"), false;
      if (!expire_at(now, v, ieq(a[i], "EX") ? 1000 : 1, expire))
        return error(out, "ERR invalid expire time in 'set' command"), false;
      ++i;
    } else if (ieq(a[i], "NX")) {
      nx = true;
    } else if (ieq(a[i], "XX")) {
      xx = true;
    } else {
      return error(out, "ERR syntax error"), false;
    }
  }
  kv::Entry *e = store_.find(a[1], now);
  if ((nx && e) || (xx && !e))
    return nil(out), false;
  if (e)
    e->value.assign(a[2]);
  else
    e = store_.insert(a[1], a[2]);
  e->expire_ms = expire;
  simple(out, "OK");
  return true;
}

bool Server::cmd_del_exists(Conn &c, const Args &a, std::int64_t now) {
  if (a.size() < 2)
    return error(c.out, "ERR wrong number of arguments"), false;
  bool del = ieq(a[0], "DEL");
  long long n = 0;
  for (std::size_t i = 1; i < a.size(); ++i)
    n += del ? store_.find(a[i], now) && store_.erase(a[i]) : store_.find(a[i], now) != nullptr;
  integer(c.out, n);
  return del && n > 0;
}

bool Server::cmd_incr(Conn &c, const Args &a, std::int64_t now) {
  std::string &out = c.out;
  if (a.size() != 2)
    return error(out, "ERR wrong number of arguments for 'incr' command"), false;
  kv::Entry *e = store_.find(a[1], now);
  long long v = 0;
  if (e && !parse_ll(e->value, v))
    return error(out, "ERR value is not an integer or out of range"), false;
  if (v == INT64_MAX)
    return error(out, "ERR increment or decrement would overflow"), false;
  std::string s = std::to_string(v + 1);
  if (e)
    e->value = s;
  else
    store_.insert(a[1], s);
  integer(out, v + 1);
  return true;
}

bool Server::cmd_expire(Conn &c, const Args &a, std::int64_t now) {
  std::string &out = c.out;
  long long secs;
  if (a.size() != 3 || !parse_ll(a[2], secs))
    return error(out, "ERR wrong arguments for 'expire' command"), false;
  kv::Entry *e = store_.find(a[1], now);
  if (!e)
    return integer(out, 0), false;
  std::int64_t at = 0;
  if (secs > 0 && !expire_at(now, secs, 1000, at))
    return error(out, "ERR invalid expire time in 'expire' command"), false;
  if (secs <= 0)
    store_.erase(a[1]);
  else
    e->expire_ms = at;
  integer(out, 1);
  return true;
}

bool Server::cmd_ttl(Conn &c, const Args &a, std::int64_t now) {
  if (a.size() != 2)
    return error(c.out, "ERR wrong number of arguments for 'ttl' command"), false;
  const kv::Entry *e = store_.find(a[1], now);
  integer(c.out, !e ? -2 : !e->expire_ms ? -1 : (e->expire_ms - now + 999) / 1000);
  return false;
}

bool Server::cmd_config(Conn &c, const Args &a, std::int64_t) {
  std::string &out = c.out;
  if (a.size() >= 3 && ieq(a[1], "GET")) { // redis-benchmark asks for "save" and "appendonly"
    std::size_t known = 0;
    for (std::size_t i = 2; i < a.size(); ++i)
      known += ieq(a[i], "SAVE") || ieq(a[i], "APPENDONLY");
    array(out, 2 * known);
    for (std::size_t i = 2; i < a.size(); ++i)
      if (ieq(a[i], "SAVE") || ieq(a[i], "APPENDONLY")) {
        bulk(out, ieq(a[i], "SAVE") ? "save" : "appendonly");
        bulk(out, ieq(a[i], "SAVE") ? "" : "no");
      }
    return false;
  }
  return error(out, "ERR CONFIG supports only GET"), false;
}

// Commands with a reply and no state.
bool Server::cmd_simple(Conn &c, const Args &a, std::int64_t) {
  std::string &out = c.out;
  if (ieq(a[0], "DBSIZE"))
    integer(out, (long long)store_.size());
  else if (ieq(a[0], "PING"))
    a.size() > 1 ? bulk(out, a[1]) : simple(out, "PONG");
  else if (ieq(a[0], "ECHO")) // redis-cli --pipe ends its stream with one
    a.size() == 2 ? bulk(out, a[1])
                  : error(out, "ERR wrong number of arguments for 'echo' command");
  else if (ieq(a[0], "INFO"))
    info(out);
  else if (ieq(a[0], "COMMAND")) // redis-cli asks for command docs; none here
    array(out, 0);
  else if (ieq(a[0], "SELECT"))
    a.size() == 2 && a[1] == "0" ? simple(out, "OK") : error(out, "ERR DB index is out of range");
  else if (ieq(a[0], "QUIT"))
    simple(out, "OK"), c.close_after = true;
  return false;
}

bool Server::cmd_flushall(Conn &c, const Args &, std::int64_t) {
  store_.clear();
  simple(c.out, "OK");
  return true;
}

bool Server::execute(Conn &c, const Args &a) {
  if (a.empty())
    return false;
  using Handler = bool (Server::*)(Conn &, const Args &, std::int64_t);
  static const std::pair<const char *, Handler> table[] = {
      {"GET", &Server::cmd_get},         {"SET", &Server::cmd_set},
      {"DEL", &Server::cmd_del_exists},  {"EXISTS", &Server::cmd_del_exists},
      {"INCR", &Server::cmd_incr},       {"EXPIRE", &Server::cmd_expire},
      {"TTL", &Server::cmd_ttl},         {"CONFIG", &Server::cmd_config},
      {"FLUSHALL", &Server::cmd_flushall}, {"FLUSHDB", &Server::cmd_flushall},
      {"DBSIZE", &Server::cmd_simple},   {"PING", &Server::cmd_simple},
      {"ECHO", &Server::cmd_simple},     {"INFO", &Server::cmd_simple},
      {"COMMAND", &Server::cmd_simple},  {"SELECT", &Server::cmd_simple},
      {"QUIT", &Server::cmd_simple},
  };
  std::string_view cmd = a[0];
  if (ieq(cmd, "AUTH"))
    return cmd_auth(c, a, 0);
  if (!o_.requirepass.empty() && !c.authed && !ieq(cmd, "QUIT"))
    return error(c.out, "NOAUTH Authentication required."), false;
  // Another process may be the primary now (its backup took over): answer
  // nothing from this state, reads included (DESIGN.md: one primary at a time).
  if (!checksync::is_leader() && !ieq(cmd, "PING") && !ieq(cmd, "INFO") && !ieq(cmd, "QUIT"))
    return error(c.out, "TRYAGAIN no lease: this server cannot tell it is still the primary "
                        "(checksync::is_leader())"),
           false;
  for (const auto &[name, handler] : table)
    if (ieq(cmd, name))
      return (this->*handler)(c, a, wall_ms());
  error(c.out, "ERR unknown command '" + std::string(cmd.substr(0, 64)) + "'");
  return false;
}

} // namespace kv::server
