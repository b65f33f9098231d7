// etcd.cpp - see etcd.h. The gateway's JSON: int64 fields are strings,
// fields at their default value are omitted, bytes are base64.
#include "ha/etcd.h"

#include "schema/types.h"

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <chrono>

namespace checksync::detail::etcd {
namespace {
using json = nlohmann::json;

std::string b64(const std::string &s) {
  std::string out(4 * ((s.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                          reinterpret_cast<const unsigned char *>(s.data()), int(s.size()));
  out.resize(std::size_t(n));
  return out;
}

std::string unb64(const std::string &s) {
  std::string out(3 * s.size() / 4 + 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                          reinterpret_cast<const unsigned char *>(s.data()), int(s.size()));
  if (n < 0)
    throw Error("etcd: bad base64 in a response");
  // EVP_DecodeBlock counts the padding's zero bytes.
  std::size_t pad = 0;
  for (auto it = s.rbegin(); it != s.rend() && *it == '='; ++it)
    ++pad;
  out.resize(std::size_t(n) - pad);
  return out;
}

std::int64_t num(const json &j, const char *field) {
  if (!j.contains(field))
    return 0; // the gateway omits zeros
  const json &v = j.at(field);
  return v.is_string() ? std::stoll(v.get<std::string>()) : v.get<std::int64_t>();
}

KeyValue to_kv(const json &j) {
  KeyValue kv;
  kv.key = unb64(j.value("key", ""));
  kv.value = unb64(j.value("value", ""));
  kv.create_revision = num(j, "create_revision");
  kv.mod_revision = num(j, "mod_revision");
  kv.lease = num(j, "lease");
  return kv;
}

// The key just past every key starting with `prefix` (etcd's range_end).
std::string prefix_end(std::string p) {
  while (!p.empty() && static_cast<unsigned char>(p.back()) == 0xff)
    p.pop_back();
  if (p.empty())
    return std::string(1, '\0');
  p.back() = char(static_cast<unsigned char>(p.back()) + 1);
  return p;
}
} // namespace

std::vector<std::pair<std::string, int>> parse_url(const std::string &url) {
  const std::string scheme = "etcd://";
  if (url.compare(0, scheme.size(), scheme) != 0)
    throw Error("coordinator '" + url + "' is not etcd://HOST:PORT[,HOST:PORT...]");
  std::vector<std::pair<std::string, int>> out;
  std::string rest = url.substr(scheme.size());
  std::size_t at = 0;
  while (at <= rest.size()) {
    std::size_t comma = rest.find(',', at);
    std::string one = rest.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    std::size_t colon = one.rfind(':');
    int port = 0;
    if (colon != std::string::npos && colon > 0) {
      try {
        std::size_t used = 0;
        port = std::stoi(one.substr(colon + 1), &used);
        if (used != one.size() - colon - 1)
          port = 0;
      } catch (const std::exception &) {
        port = 0;
      }
    }
    if (port <= 0 || port > 65535)
      throw Error("coordinator '" + url + "': '" + one + "' is not HOST:PORT");
    out.emplace_back(one.substr(0, colon), port);
    if (comma == std::string::npos)
      break;
    at = comma + 1;
  }
  return out;
}

struct Etcd::Members {
  std::vector<std::pair<std::string, int>> endpoints;
  std::vector<std::unique_ptr<httplib::Client>> clients;
  std::size_t current = 0; // the member that answered last
  int timeout_ms;
};

Etcd::Etcd(const std::string &url, int timeout_ms) : m_(std::make_unique<Members>()) {
  m_->endpoints = parse_url(url);
  m_->timeout_ms = timeout_ms;
  for (auto &[host, port] : m_->endpoints) {
    auto c = std::make_unique<httplib::Client>(host, port);
    c->set_keep_alive(true);
    // Headers and body go out in two writes: without this, Nagle holds the
    // body for the peer's delayed ACK, 40 ms per request.
    c->set_tcp_nodelay(true);
    m_->clients.push_back(std::move(c));
  }
}

Etcd::~Etcd() = default;

std::string Etcd::call(const std::string &path, const std::string &body) {
  // One deadline for the call, whatever the number of members tried: a
  // leader's renewal must not outlast its lease by trying them all.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(m_->timeout_ms);
  std::string last = "no time left";
  for (std::size_t i = 0; i < m_->clients.size(); ++i) {
    std::size_t at = (m_->current + i) % m_->clients.size();
    auto left = std::chrono::duration_cast<std::chrono::microseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left < 1000)
      break;
    auto &client = *m_->clients[at];
    client.set_connection_timeout(0, left);
    client.set_read_timeout(0, left);
    client.set_write_timeout(0, left);
    auto res = client.Post(path, body, "application/json");
    auto &[host, port] = m_->endpoints[at];
    std::string where = host + ":" + std::to_string(port);
    if (!res) {
      last = where + ": " + httplib::to_string(res.error());
      continue;
    }
    if (res->status != 200) {
      // A member without quorum answers 5xx: try another one.
      last = where + ": HTTP " + std::to_string(res->status) + " " + res->body.substr(0, 200);
      continue;
    }
    m_->current = at;
    return res->body;
  }
  throw Error("etcd unreachable (" + last + ")");
}

namespace {
json parse(const std::string &body) {
  try {
    return json::parse(body);
  } catch (const json::exception &e) {
    throw Error(std::string("etcd: unreadable response: ") + e.what());
  }
}

// A response of an unexpected shape (a field missing, a number that is not
// one) is an etcd error like any other, never an exception that would end a
// thread.
template <class F> auto checked(F &&f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error &) {
    throw;
  } catch (const std::exception &e) {
    throw Error(std::string("etcd: unexpected response: ") + e.what());
  }
}

json compare_mod(const std::string &key, std::int64_t expected) {
  if (expected == 0)
    return {{"key", b64(key)}, {"result", "EQUAL"}, {"target", "CREATE"}, {"create_revision", "0"}};
  return {{"key", b64(key)},
          {"result", "EQUAL"},
          {"target", "MOD"},
          {"mod_revision", std::to_string(expected)}};
}
} // namespace

std::optional<KeyValue> Etcd::get(const std::string &key) {
  return checked([&]() -> std::optional<KeyValue> {
    json r = parse(call("/v3/kv/range", json{{"key", b64(key)}}.dump()));
    if (!r.contains("kvs") || r["kvs"].empty())
      return std::nullopt;
    return to_kv(r["kvs"][0]);
  });
}

std::vector<KeyValue> Etcd::get_prefix(const std::string &prefix) {
  return checked([&] {
    json r = parse(call("/v3/kv/range",
                        json{{"key", b64(prefix)}, {"range_end", b64(prefix_end(prefix))}}.dump()));
    std::vector<KeyValue> out;
    if (r.contains("kvs"))
      for (const json &kv : r["kvs"])
        out.push_back(to_kv(kv));
    return out;
  });
}

std::optional<std::int64_t> Etcd::put_if(const std::string &key, const std::string &value,
                                         std::int64_t expected, std::int64_t lease) {
  return checked([&]() -> std::optional<std::int64_t> {
    json put = {{"key", b64(key)}, {"value", b64(value)}};
    if (lease)
      put["lease"] = std::to_string(lease);
    json txn = {{"compare", json::array({compare_mod(key, expected)})},
                {"success", json::array({json{{"request_put", put}}})}};
    json r = parse(call("/v3/kv/txn", txn.dump()));
    if (!r.value("succeeded", false))
      return std::nullopt;
    return num(r.at("header"), "revision");
  });
}

bool Etcd::delete_if(const std::string &key, std::int64_t expected) {
  return checked([&] {
    json txn = {{"compare", json::array({compare_mod(key, expected)})},
                {"success", json::array({json{{"request_delete_range", {{"key", b64(key)}}}}})}};
    return parse(call("/v3/kv/txn", txn.dump())).value("succeeded", false);
  });
}

void Etcd::put(const std::string &key, const std::string &value, std::int64_t lease) {
  return checked([&] {
    json put = {{"key", b64(key)}, {"value", b64(value)}};
    if (lease)
      put["lease"] = std::to_string(lease);
    call("/v3/kv/put", put.dump());
  });
}

std::int64_t Etcd::grant(std::int64_t ttl_s) {
  return checked([&] {
    json r = parse(call("/v3/lease/grant", json{{"TTL", std::to_string(ttl_s)}}.dump()));
    if (r.contains("error") && !r["error"].empty())
      throw Error("etcd: lease grant: " + r["error"].dump());
    std::int64_t id = num(r, "ID");
    if (id == 0)
      throw Error("etcd: lease grant returned no lease");
    return id;
  });
}

std::int64_t Etcd::keep_alive(std::int64_t lease) {
  return checked([&] {
    json r = parse(call("/v3/lease/keepalive", json{{"ID", std::to_string(lease)}}.dump()));
    return r.contains("result") ? num(r["result"], "TTL") : 0;
  });
}

void Etcd::revoke(std::int64_t lease) {
  return checked([&] { call("/v3/kv/lease/revoke", json{{"ID", std::to_string(lease)}}.dump()); });
}

} // namespace checksync::detail::etcd
