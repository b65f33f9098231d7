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
#include <optional>
#include <sys/random.h>
#include <unistd.h>

namespace checksync::detail {

std::int64_t lease_clock_us() {
  timespec ts;
  // The same clock in every process (serve hands a stamp on), and one that
  // counts a suspended machine's sleep, so a lease does not outlive it.
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return std::int64_t(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

std::string leader_key(const std::string &service) { return "/checksync/" + service + "/leader"; }
std::string backups_prefix(const std::string &service) {
  return "/checksync/" + service + "/backups/";
}

std::string encode_leader(const LeaderRecord &r) {
  nlohmann::json j{{"generation", r.generation}, {"lease_ms", r.lease_ms}, {"holder", r.holder},
                   {"nonce", r.nonce},           {"backups", r.backups},   {"quorum", r.quorum}};
  if (r.released)
    j["released"] = true;
  return j.dump();
}

LeaderRecord decode_leader(const std::string &value) {
  try {
    auto j = nlohmann::json::parse(value);
    LeaderRecord r;
    r.generation = j.at("generation").get<std::uint64_t>();
    r.lease_ms = j.at("lease_ms").get<std::int64_t>();
    r.holder = j.value("holder", "");
    r.nonce = j.value("nonce", std::uint64_t(0));
    r.backups = j.value("backups", std::uint64_t(0));
    r.quorum = j.value("quorum", std::uint64_t(0));
    r.released = j.value("released", false);
    if (r.lease_ms <= 0 || r.lease_ms > 3600000)
      throw Error("lease_ms out of range");
    if (r.quorum > r.backups || (r.backups > 0 && r.quorum == 0))
      throw Error("quorum " + std::to_string(r.quorum) + " with " + std::to_string(r.backups) +
                  " backups");
    return r;
  } catch (const std::exception &e) {
    throw Error(std::string("the leader record is not CheckSync's: ") + e.what());
  }
}

std::uint64_t random_nonce64() {
  std::uint64_t n = 0;
  while (n == 0)
    if (::getrandom(&n, sizeof n, 0) != sizeof n)
      n = std::uint64_t(lease_clock_us()) ^ (std::uint64_t(::getpid()) << 32);
  return n;
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
    std::int64_t expected = 0; // the key absent, or this released record
    if (auto kv = etcd.get(key)) {
      std::string who;
      bool released = false;
      try {
        LeaderRecord r = decode_leader(kv->value);
        released = r.released;
        who = r.holder + ", generation " + std::to_string(generation_of(r, kv->mod_revision));
      } catch (const Error &e) {
        who = e.what();
      }
      if (!released)
        throw Error("service '" + o_.service + "' has a leader (" + who +
                    "): another primary runs, or a backup holding its state takes over; a "
                    "primary that starts afresh needs the key gone (etcdctl del " +
                    key + ")");
      expected = kv->mod_revision;
    }
    std::int64_t sent = lease_clock_us();
    LeaderRecord mine{0, o_.lease_ms, o_.holder, nonce_, o_.backups, o_.quorum};
    std::optional<std::int64_t> rev;
    try {
      rev = etcd.put_if(key, encode_leader(mine), expected);
    } catch (const Error &) {
      // It may have been applied all the same: the nonce tells.
    }
    if (!rev)
      rev = own_late_write(etcd, key);
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
  return lease_clock_us() < valid_until_us_.load(std::memory_order_acquire);
}

std::optional<std::int64_t> Leadership::own_late_write(etcd::Etcd &etcd, const std::string &key) {
  auto kv = etcd.get(key);
  if (!kv)
    return std::nullopt;
  try {
    LeaderRecord r = decode_leader(kv->value);
    if (r.released)
      return std::nullopt;
    // Ours, or serve's renewals for us while this process started (its
    // nonce came with the win): never another process's, even one handed the
    // same generation.
    if (r.nonce == nonce_ ||
        (o_.won_nonce && r.nonce == o_.won_nonce && r.generation == generation_))
      return kv->mod_revision;
  } catch (const Error &) {
  }
  return std::nullopt;
}

void Leadership::loop() {
  const std::string key = leader_key(o_.service);
  const std::string value =
      encode_leader({generation_, o_.lease_ms, o_.holder, nonce_, o_.backups, o_.quorum});
  const auto every = std::chrono::milliseconds(std::max<std::int64_t>(10, o_.lease_ms / 4));
  etcd::Etcd etcd(o_.url, int(std::max<std::int64_t>(50, o_.lease_ms / 4)));
  bool warned = false, at_once = false;
  for (;;) {
    {
      std::unique_lock l(mu_);
      if (cv_.wait_for(l, at_once ? std::chrono::milliseconds(0) : every,
                       [&] { return stopping_; }))
        return;
    }
    at_once = false;
    std::int64_t sent = lease_clock_us();
    try {
      auto rev = etcd.put_if(key, value, mod_revision_);
      if (!rev && (rev = own_late_write(etcd, key))) {
        // A renewal that timed out here reached etcd after all, or serve
        // renewed for us while we started: the key is still this
        // leadership's. Continue from that write, without counting this one.
        mod_revision_ = *rev;
        at_once = true;
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
    LeaderRecord r{generation_, o_.lease_ms, o_.holder, nonce_, o_.backups, o_.quorum, true};
    const std::string key = leader_key(o_.service);
    if (!etcd.put_if(key, encode_leader(r), mod_revision_)) {
      // Our last renewal may have timed out yet been applied: once more.
      auto rev = own_late_write(etcd, key);
      if (!rev || !etcd.put_if(key, encode_leader(r), *rev))
        LOG_WARN("could not release the leadership of service '%s': the key changed; the "
                 "backups wait out the lease",
                 o_.service.c_str());
    }
  } catch (const Error &e) {
    LOG_WARN("could not release the leadership of service '%s': %s", o_.service.c_str(), e.what());
  }
}

} // namespace checksync::detail
