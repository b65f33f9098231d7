// leadership.cpp - see leadership.h.
#include "ha/leadership.h"

#include "ha/etcd.h"
#include "log/log.h"
#include "schema/types.h"

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <unistd.h>

namespace checksync::detail {

std::int64_t monotonic_us() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts); // the same clock in every process: serve hands it on
  return std::int64_t(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

std::string leader_key(const std::string &service) { return "/checksync/" + service + "/leader"; }
std::string backups_prefix(const std::string &service) {
  return "/checksync/" + service + "/backups/";
}

std::string encode_leader(const LeaderRecord &r) {
  return nlohmann::json{
      {"generation", r.generation}, {"lease_ms", r.lease_ms}, {"holder", r.holder}}
      .dump();
}

LeaderRecord decode_leader(const std::string &value) {
  try {
    auto j = nlohmann::json::parse(value);
    LeaderRecord r;
    r.generation = j.at("generation").get<std::uint64_t>();
    r.lease_ms = j.at("lease_ms").get<std::int64_t>();
    r.holder = j.value("holder", "");
    if (r.lease_ms <= 0 || r.lease_ms > 3600000)
      throw Error("lease_ms out of range");
    return r;
  } catch (const std::exception &e) {
    throw Error(std::string("the leader record is not CheckSync's: ") + e.what());
  }
}

std::int64_t takeover_wait_ms(std::int64_t lease_ms) {
  // The margin covers clocks that run at slightly different rates and the
  // leader's check of valid() racing its answer to a client.
  return lease_ms + lease_ms / 5 + 50;
}

Leadership::Leadership(LeadershipOptions o) : o_(std::move(o)) {
  OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr); // see shipper.cpp
  const std::string key = leader_key(o_.service);
  if (o_.won_revision) {
    generation_ = std::uint64_t(o_.won_revision);
    mod_revision_ = o_.won_revision;
    valid_until_us_ = o_.won_sent_us + o_.lease_ms * 1000;
  } else {
    etcd::Etcd etcd(o_.url, int(std::max<std::int64_t>(200, o_.lease_ms)));
    if (auto kv = etcd.get(key)) {
      std::string who;
      try {
        LeaderRecord r = decode_leader(kv->value);
        who = r.holder + ", generation " +
              std::to_string(r.generation ? r.generation : std::uint64_t(kv->mod_revision));
      } catch (const Error &e) {
        who = e.what();
      }
      throw Error("service '" + o_.service + "' has a leader (" + who +
                  "): another primary runs, or a backup holding its state takes over; a "
                  "primary that starts afresh needs the key gone (etcdctl del " +
                  key + ")");
    }
    std::int64_t sent = monotonic_us();
    auto rev = etcd.put_if(key, encode_leader({0, o_.lease_ms, o_.holder}), 0);
    if (!rev)
      throw Error("service '" + o_.service + "': another process won the leader key first");
    generation_ = std::uint64_t(*rev);
    mod_revision_ = *rev;
    valid_until_us_ = sent + o_.lease_ms * 1000;
  }
  LOG_INFO("leading service '%s' as pid %d (generation %llu, lease %lld ms)", o_.service.c_str(),
           int(::getpid()), (unsigned long long)generation_, (long long)o_.lease_ms);
  thread_ = std::thread([this] { loop(); });
}

Leadership::~Leadership() {
  {
    std::lock_guard l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

bool Leadership::valid() const {
  return monotonic_us() < valid_until_us_.load(std::memory_order_acquire);
}

std::optional<std::int64_t> Leadership::own_late_write(etcd::Etcd &etcd, const std::string &key) {
  auto kv = etcd.get(key);
  if (!kv)
    return std::nullopt;
  try {
    LeaderRecord r = decode_leader(kv->value);
    if (r.generation == generation_ && r.holder == o_.holder)
      return kv->mod_revision;
  } catch (const Error &) {
  }
  return std::nullopt;
}

void Leadership::loop() {
  const std::string key = leader_key(o_.service);
  const std::string value = encode_leader({generation_, o_.lease_ms, o_.holder});
  const auto every = std::chrono::milliseconds(std::max<std::int64_t>(10, o_.lease_ms / 4));
  etcd::Etcd etcd(o_.url, int(std::max<std::int64_t>(50, o_.lease_ms / 4)));
  bool warned = false;
  for (;;) {
    {
      std::unique_lock l(mu_);
      if (cv_.wait_for(l, every, [&] { return stopping_; }))
        return;
    }
    std::int64_t sent = monotonic_us();
    try {
      auto rev = etcd.put_if(key, value, mod_revision_);
      if (!rev && (rev = own_late_write(etcd, key))) {
        // A renewal that timed out here reached etcd after all: the key is
        // still ours. Continue from that write, without counting this one.
        mod_revision_ = *rev;
        continue;
      }
      if (!rev) {
        // Someone took the key after our lease ran out: for good.
        valid_until_us_ = 0;
        LOG_ERROR("deposed: service '%s' has a newer leader; this primary (generation %llu) "
                  "stops",
                  o_.service.c_str(), (unsigned long long)generation_);
        std::_Exit(5);
      }
      mod_revision_ = *rev;
      valid_until_us_.store(sent + o_.lease_ms * 1000, std::memory_order_release);
      if (warned)
        LOG_INFO("etcd reachable again: still leading service '%s'", o_.service.c_str());
      warned = false;
    } catch (const Error &e) {
      if (!warned)
        LOG_WARN("cannot renew the leadership of service '%s': %s (not serving once the lease "
                 "runs out)",
                 o_.service.c_str(), e.what());
      warned = true;
    }
  }
}

void Leadership::release() {
  {
    std::lock_guard l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
  valid_until_us_ = 0;
  try {
    etcd::Etcd etcd(o_.url, 500);
    etcd.delete_if(leader_key(o_.service), mod_revision_);
  } catch (const Error &e) {
    LOG_WARN("could not release the leadership of service '%s': %s", o_.service.c_str(), e.what());
  }
}

} // namespace checksync::detail
