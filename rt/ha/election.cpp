// election.cpp - see election.h and docs/protocol.md, "Leadership on etcd".
#include "ha/election.h"

#include "ha/leadership.h"
#include "ha/replicas.h"
#include "ha/status_query.h"
#include "log/log.h"
#include "schema/types.h"

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>
#include <tuple>

namespace checksync::ha {
using namespace checksync::detail;
using json = nlohmann::json;

namespace {
constexpr std::int64_t kRegistrationTtlS = 2;
constexpr int kStatusTimeoutMs = 300;
// A resumed program that has not renewed by then is stuck: stop renewing
// for it, so another backup takes over.
constexpr std::int64_t kHandoverLimitUs = 60 * 1000000;

struct Holding {
  std::uint64_t generation = 0, durable = 0; // generation: the one that stored `durable`
  std::string addr;
  bool candidate = true;
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

void Election::say_once(const std::string &line) {
  if (line != said_)
    LOG_INFO("%s", line.c_str());
  said_ = line;
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
      continue; // the resumed program leads now
    try {
      tick(etcd);
      if (warned_)
        LOG_INFO("etcd reachable again");
      warned_ = false;
    } catch (const std::exception &e) { // etcd's errors, and any other: never end the thread
      if (!warned_)
        LOG_WARN("coordinator: %s (retrying; no takeover meanwhile)", e.what());
      warned_ = true;
      seen_revision_ = -1; // what we saw is no longer known to be current
    }
  }
}

void Election::keep_registered(etcd::Etcd &etcd, std::int64_t now) {
  BackupStatus st = backup_.status();
  std::string value =
      json{{"addr", o_.addr}, {"generation", st.durable_generation}, {"durable", st.durable}}
          .dump();
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
}

void Election::tick(etcd::Etcd &etcd) {
  if (handing_over_)
    return hand_over(etcd);
  keep_registered(etcd, lease_clock_us());

  // The leader, and how long its key has stood still: timed from when the
  // answer arrived, as a renewal may have been sent while the request was on
  // its way (an earlier stamp would cut into that renewal's lease).
  auto kv = etcd.get(leader_key(o_.service));
  std::int64_t now = lease_clock_us();
  std::uint64_t need = 1; // backups to hear from, this one included
  if (kv) {
    LeaderRecord rec = decode_leader(kv->value);
    backup_.leader_generation = generation_of(rec, kv->mod_revision);
    if (kv->mod_revision != seen_revision_) {
      seen_revision_ = kv->mod_revision;
      seen_since_us_ = now;
    }
    if (!rec.released && now - seen_since_us_ < takeover_wait_ms(rec.lease_ms) * 1000)
      return; // alive, or not yet known to be gone
    need = rec.backups - rec.quorum + 1;
  } else {
    seen_revision_ = 0;
  }
  BackupStatus st = backup_.status();
  if (!o_.takeover || st.taken_over || st.durable == 0)
    return;
  campaign(etcd, need, bool(kv));
}

void Election::campaign(etcd::Etcd &etcd, std::uint64_t need, bool had_key) {
  BackupStatus st = backup_.status();
  Holding mine{st.durable_generation, st.durable, o_.addr};
  // What every registered backup holds now, asked directly: a registration
  // is rewritten only on that backup's next tick, and may be gone.
  std::vector<std::string> others;
  std::uint64_t heard = 1;
  for (const auto &r : etcd.get_prefix(backups_prefix(o_.service))) {
    std::string addr = r.key.substr(backups_prefix(o_.service).size());
    if (addr == o_.addr)
      continue;
    others.push_back(addr);
    Holding h;
    try {
      json j = json::parse(query_status(addr, o_.secret, kStatusTimeoutMs));
      if (j.value("service", "") != o_.service)
        continue; // a stale address, now another service's backup: not one of ours
      h = {j.value("durable_generation", j.value("generation", std::uint64_t(0))),
           j.value("durable_epoch", std::uint64_t(0)), addr,
           j["takeover"].value("armed", false) && !j["takeover"].value("done", false)};
    } catch (const std::exception &) {
      continue; // dead, or cut off from us: it cannot be elected either
    }
    ++heard;
    if (h.durable > 0 && h.better_than(mine)) { // holding nothing, it cannot help
      say_once(h.candidate ? "the leader of '" + o_.service + "' is gone; backup " + addr +
                                 " holds newer state (generation " + std::to_string(h.generation) +
                                 ", epoch " + std::to_string(h.durable) + " against " +
                                 std::to_string(mine.durable) + " here): it takes over"
                           : "the leader of '" + o_.service + "' is gone, but backup " + addr +
                                 " holds newer state and does not take over (no --takeover): no "
                                 "backup takes over until it does, or is resumed by hand");
      return;
    }
  }
  if (heard < need) {
    say_once("the leader of '" + o_.service + "' is gone; heard from " + std::to_string(heard) +
             " backup(s) of the " + std::to_string(need) +
             " needed to be sure to hold every acknowledged epoch: waiting");
    return;
  }

  // The resumed program's backups: the registered ones and --ship-to, each once.
  Win win;
  win.targets = others;
  for (const std::string &b : o_.ship_to)
    if (b != o_.addr && std::find(win.targets.begin(), win.targets.end(), b) == win.targets.end())
      win.targets.push_back(b);
  // Explicit, so the program and the leader record agree whatever
  // CHECKSYNC_QUORUM serve itself inherited.
  win.quorum = o_.quorum.empty() ? "majority" : o_.quorum;
  std::uint64_t n = win.targets.size(), q = 0;
  if (n) {
    if (!win.quorum.empty() && std::isdigit(static_cast<unsigned char>(win.quorum[0])) &&
        std::stoull(win.quorum) > n) {
      LOG_WARN("--quorum %s, but the program ships to %llu backup(s): quorum all",
               win.quorum.c_str(), (unsigned long long)n);
      win.quorum = "all";
    }
    q = parse_quorum(win.quorum, n);
  }

  nonce_ = random_nonce64();
  LeaderRecord rec{0, o_.lease_ms, "checksync-rt serve " + o_.addr, nonce_, n, q};
  win.sent_us = lease_clock_us();
  std::optional<std::int64_t> rev;
  try {
    rev = etcd.put_if(leader_key(o_.service), encode_leader(rec), seen_revision_);
  } catch (const Error &) {
    // It may have been applied all the same: the nonce tells (below).
  }
  if (!rev) {
    auto kv = etcd.get(leader_key(o_.service));
    if (!kv || decode_leader(kv->value).nonce != nonce_)
      return; // another contender was first
    rev = kv->mod_revision;
  }
  win.revision = *rev;
  win.nonce = nonce_;
  LOG_WARN("won the leadership of '%s' (generation %lld): %s; heard from %llu backup(s)",
           o_.service.c_str(), (long long)win.revision,
           had_key ? ("the leader's key stood still for " +
                      std::to_string((lease_clock_us() - seen_since_us_) / 1000) + " ms")
                         .c_str()
                   : "no leader",
           (unsigned long long)heard);
  try { // no longer a backup: out of the elections at once, not in 2 s
    etcd.revoke(lease_);
  } catch (const Error &) {
  }
  lease_ = 0;
  my_revision_ = win.revision;
  my_generation_ = std::uint64_t(win.revision);
  backups_ = n;
  quorum_ = q;
  handing_over_ = true;
  handover_since_us_ = lease_clock_us();
  if (!won_(win)) {
    LOG_ERROR("takeover failed after winning: the key goes stale and another backup takes over");
    handing_over_ = false;
    done_ = true;
  }
  }

void Election::hand_over(etcd::Etcd &etcd) {
  auto kv = etcd.get(leader_key(o_.service));
  auto finish = [&](const char *why) {
    LOG_INFO("leadership of '%s' (generation %llu): %s", o_.service.c_str(),
             (unsigned long long)my_generation_, why);
    handing_over_ = false;
    done_ = true;
  };
  if (!kv)
    return finish("the key is gone");
  LeaderRecord rec = decode_leader(kv->value);
  if (rec.generation == my_generation_ && rec.nonce != nonce_)
    return finish("the resumed program renews it now");
  if (rec.nonce != nonce_)
    return finish("taken by another (the resumed program will stop)");
  my_revision_ = kv->mod_revision; // ours, maybe a write that timed out here
  if (lease_clock_us() - handover_since_us_ > kHandoverLimitUs)
    return finish("the resumed program never renewed it in 60 s: no longer renewed for it");
  LeaderRecord mine{my_generation_, o_.lease_ms, "checksync-rt serve " + o_.addr + " (resuming)",
                    nonce_,         backups_,    quorum_};
  if (auto rev = etcd.put_if(leader_key(o_.service), encode_leader(mine), my_revision_))
    my_revision_ = *rev;
}

} // namespace checksync::ha
