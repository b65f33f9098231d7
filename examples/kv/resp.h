// resp.h - the Redis serialization protocol (RESP2) subset checksync-kv
// speaks: requests are arrays of bulk strings (what redis-cli and
// redis-benchmark send) or inline commands; replies are simple strings,
// errors, integers, bulk strings and arrays.
#ifndef CHECKSYNC_KV_RESP_H
#define CHECKSYNC_KV_RESP_H

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kv::resp {

enum class Parse { Ok, NeedMore, Bad };

// Parses one request starting at buf[pos]. On Ok, args point into buf and pos
// moves past the request. Bad: not RESP, a bulk string longer than max_bulk
// (Redis' proto-max-bulk-len), or a bulk string not followed by CRLF.
inline Parse parse(std::string_view buf, std::size_t &pos, std::vector<std::string_view> &args,
                   std::size_t max_bulk) {
  args.clear();
  std::size_t p = pos;
  auto line = [&](std::string_view &out) {
    std::size_t e = buf.find("\r\n", p);
    if (e == std::string_view::npos)
      return false;
    out = buf.substr(p, e - p);
    p = e + 2;
    return true;
  };
  auto number = [](std::string_view s, long long &v) {
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && ptr == s.data() + s.size();
  };
  if (p >= buf.size())
    return Parse::NeedMore;
  if (buf[p] != '*') { // inline command: words separated by spaces, ends at \n
    std::size_t e = buf.find('\n', p);
    if (e == std::string_view::npos)
      return buf.size() - p > 65536 ? Parse::Bad : Parse::NeedMore;
    std::string_view l = buf.substr(p, e - p);
    if (!l.empty() && l.back() == '\r')
      l.remove_suffix(1);
    p = e + 1;
    std::size_t i = 0;
    while (i < l.size()) {
      while (i < l.size() && l[i] == ' ')
        ++i;
      std::size_t j = i;
      while (j < l.size() && l[j] != ' ')
        ++j;
      if (j > i)
        args.push_back(l.substr(i, j - i));
      i = j;
    }
    pos = p;
    return Parse::Ok;
  }
  ++p;
  std::string_view l;
  long long n;
  if (!line(l))
    return Parse::NeedMore;
  if (!number(l, n) || n < 0 || n > 1024 * 1024)
    return Parse::Bad;
  for (long long k = 0; k < n; ++k) {
    if (p >= buf.size())
      return Parse::NeedMore;
    if (buf[p] != '$')
      return Parse::Bad;
    ++p;
    long long len;
    if (!line(l))
      return Parse::NeedMore;
    if (!number(l, len) || len < 0 || std::size_t(len) > max_bulk)
      return Parse::Bad;
    if (buf.size() - p < std::size_t(len) + 2)
      return Parse::NeedMore;
    if (buf[p + std::size_t(len)] != '\r' || buf[p + std::size_t(len) + 1] != '\n')
      return Parse::Bad;
    args.push_back(buf.substr(p, std::size_t(len)));
    p += std::size_t(len) + 2;
  }
  pos = p;
  return Parse::Ok;
}

inline void simple(std::string &out, std::string_view s) {
  out += '+';
  out += s;
  out += "\r\n";
}
inline void error(std::string &out, std::string_view s) {
  out += '-';
  out += s;
  out += "\r\n";
}
inline void integer(std::string &out, long long v) {
  char buf[24];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out += ':';
  out.append(buf, ptr);
  out += "\r\n";
}
inline void bulk(std::string &out, std::string_view s) {
  char buf[24];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, s.size());
  out += '$';
  out.append(buf, ptr);
  out += "\r\n";
  out += s;
  out += "\r\n";
}
inline void nil(std::string &out) { out += "$-1\r\n"; }
inline void array(std::string &out, std::size_t n) {
  out += '*';
  out += std::to_string(n);
  out += "\r\n";
}

} // namespace kv::resp

#endif
