// etcd.h - the few etcd v3 calls leadership needs (leadership.h,
// election.h), over etcd's JSON gateway (`/v3/...`, etcd >= 3.4) with
// cpp-httplib and nlohmann-json from Debian: no gRPC stack in the runtime
// that programs link. Keys and values are plain strings here (the gateway
// wants base64; this file converts).
//
// One Etcd object per thread (httplib's client is not thread-safe). Every
// call has a deadline and tries the cluster's endpoints in turn; a call that
// reaches no member throws Error, so callers treat "don't know" as "not the
// leader".
#ifndef CHECKSYNC_HA_ETCD_H
#define CHECKSYNC_HA_ETCD_H

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace checksync::detail::etcd {

struct KeyValue {
  std::string key, value;
  std::int64_t create_revision = 0, mod_revision = 0, lease = 0;
};

// "etcd://HOST:PORT[,HOST:PORT...]" -> the endpoints; throws Error.
std::vector<std::pair<std::string, int>> parse_url(const std::string &url);

class Etcd {
public:
  // timeout_ms bounds each call, over all the members it tries.
  explicit Etcd(const std::string &url, int timeout_ms = 300);
  ~Etcd();
  Etcd(const Etcd &) = delete;
  Etcd &operator=(const Etcd &) = delete;

  std::optional<KeyValue> get(const std::string &key);
  std::vector<KeyValue> get_prefix(const std::string &prefix);
  // Puts `value` at `key` if the key's mod_revision is `expected` (0: only if
  // the key does not exist). The revision of the write, or nothing if the
  // comparison failed.
  std::optional<std::int64_t> put_if(const std::string &key, const std::string &value,
                                     std::int64_t expected, std::int64_t lease = 0);
  // Deletes `key` if its mod_revision is `expected`; false if it was not.
  bool delete_if(const std::string &key, std::int64_t expected);
  void put(const std::string &key, const std::string &value, std::int64_t lease = 0);
  std::int64_t grant(std::int64_t ttl_s);      // a lease id
  std::int64_t keep_alive(std::int64_t lease); // its TTL now; 0: it expired
  void revoke(std::int64_t lease);

private:
  std::string call(const std::string &path, const std::string &body);
  struct Members;
  std::unique_ptr<Members> m_;
};

} // namespace checksync::detail::etcd

#endif
