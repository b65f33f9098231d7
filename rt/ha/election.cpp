// election.cpp - see election.h.
#include "ha/election.h"

#include "ha/leadership.h"
#include "log/log.h"
#include "schema/types.h"

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

#include <algorithm>
#include <tuple>

namespace checksync::ha {
using namespace checksync::detail;
using json = nlohmann::json;

namespace {
constexpr std::int64_t kRegistrationTtlS = 2;

struct Holding {
  std::uint64_t generation = 0, durable = 0;
  std::string addr;
  // Newer state first; equal states go to the lowest address.
  bool better_than(const Holding &o) const {
    return std::tie(generation, durable) != std::tie(o.generation, o.durable)
               ? std::tie(generation, durable) > std::tie(o.generation, o.durable)
               : addr < o.addr;
  }
};
} // namespace

Election::Election(ElectionOptions o, Backup &backup, std::function<bool(const Win &)> won)
    : o_(std::move(o)), backup_(backup), won_(std::move(won)) {
  OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr); // see shipper.cpp
  etcd::parse_url(o_.url);                              // a bad URL is an error now
  thread_ = std::thread([this] { loop(); });
}

Election::~Election() {
  {
    std::lock_guard l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

void Election::loop() {
  etcd::Etcd etcd(o_.url, std::max(200, o_.poll_ms * 4));
  for (;;) {
    {
      std::unique_lock l(mu_);
      if (cv_.wait_for(l, std::chrono::milliseconds(o_.poll_ms), [&] { return stopping_; }))
        return;
    }
    if (done_)
      continue; // won: the resumed program leads now
    try {
      tick(etcd);
      if (warned_)
        LOG_INFO("etcd reachable again");
      warned_ = false;
    } catch (const Error &e) {
      if (!warned_)
        LOG_WARN("coordinator: %s (retrying; no takeover meanwhile)", e.what());
      warned_ = true;
      seen_revision_ = -1; // what we saw is no longer known to be current
    }
  }
}

void Election::tick(etcd::Etcd &etcd) {
  std::int64_t now = monotonic_us();
  BackupStatus st = backup_.status();
  Holding mine{st.generation, st.durable, o_.addr};

  // The registration: on an etcd lease, rewritten when what we hold changes.
  std::string value =
      json{{"addr", o_.addr}, {"generation", mine.generation}, {"durable", mine.durable}}.dump();
  if (lease_ && now - lease_renewed_us_ > 500000) {
    if (etcd.keep_alive(lease_) <= 0)
      lease_ = 0; // expired while etcd was away: register anew
    else
      lease_renewed_us_ = now;
  }
  if (!lease_) {
    lease_ = etcd.grant(kRegistrationTtlS);
    lease_renewed_us_ = now;
    registered_.clear();
  }
  if (value != registered_) {
    etcd.put(backups_prefix(o_.service) + o_.addr, value, lease_);
    registered_ = value;
  }

  // The leader, and how long its key has stood still.
  auto kv = etcd.get(leader_key(o_.service));
  std::int64_t wait_ms = 0;
  if (kv) {
    LeaderRecord rec = decode_leader(kv->value);
    backup_.leader_generation = rec.generation ? rec.generation : std::uint64_t(kv->mod_revision);
    if (kv->mod_revision != seen_revision_) {
      seen_revision_ = kv->mod_revision;
      seen_since_us_ = now;
      waiting_told_ = false;
    }
    wait_ms = takeover_wait_ms(rec.lease_ms);
    if (now - seen_since_us_ < wait_ms * 1000)
      return; // alive, or not yet known to be gone
  } else {
    seen_revision_ = 0;
  }
  if (!o_.takeover || st.taken_over || mine.durable == 0)
    return;

  // The leader is gone. Campaign only if no registered backup holds newer state.
  std::vector<std::string> others;
  for (const auto &r : etcd.get_prefix(backups_prefix(o_.service))) {
    Holding h;
    try {
      auto j = json::parse(r.value);
      h = {j.at("generation").get<std::uint64_t>(), j.at("durable").get<std::uint64_t>(),
           j.at("addr").get<std::string>()};
    } catch (const std::exception &) {
      continue; // not a registration of ours
    }
    if (h.addr == o_.addr)
      continue;
    others.push_back(h.addr);
    if (h.better_than(mine)) {
      if (!waiting_told_)
        LOG_INFO("the leader of '%s' is gone; backup %s holds newer state (generation %llu, "
                 "epoch %llu against %llu here): it takes over",
                 o_.service.c_str(), h.addr.c_str(), (unsigned long long)h.generation,
                 (unsigned long long)h.durable, (unsigned long long)mine.durable);
      waiting_told_ = true;
      return;
    }
  }
  Win win;
  win.sent_us = monotonic_us();
  auto rev =
      etcd.put_if(leader_key(o_.service),
                  encode_leader({0, o_.lease_ms, "checksync-rt serve " + o_.addr}), seen_revision_);
  if (!rev)
    return; // another contender was first
  win.revision = *rev;
  win.others = std::move(others);
  win.self = o_.addr;
  LOG_WARN("won the leadership of '%s' (generation %lld): %s", o_.service.c_str(),
           (long long)win.revision,
           kv ? ("the leader's key stood still for " + std::to_string(wait_ms) + " ms").c_str()
              : "no leader");
  done_ = true;
  try { // no longer a backup: out of the elections at once, not in 2 s
    etcd.revoke(lease_);
  } catch (const Error &) {
  }
  lease_ = 0;
  if (!won_(win))
    LOG_ERROR("takeover failed after winning: the key goes stale and another backup takes over");
}

} // namespace checksync::ha
