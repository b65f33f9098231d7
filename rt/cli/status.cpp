// status.cpp - what `checksync-rt serve` is doing, for operators: serve
// rewrites DIR/serve-status.json once a second; `checksync-rt status DIR`
// shows it (or passes it through with --json), and says when it is stale.
#include "commands.h"
#include "status.h"

#include "ha/status_query.h"
#include "ha/wire.h"
#include "schema/types.h"
#include "store/store.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace checksync::cli {
namespace {
using json = nlohmann::ordered_json;
constexpr const char *kStatusFile = "serve-status.json";

std::int64_t unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}
} // namespace

std::string status_json(const std::string &dir, const std::string &listen, bool takeover,
                        int timeout_ms, const ha::BackupStatus &st, const std::string &service) {
  std::uint64_t files = 0, bytes = 0;
  try {
    for (const auto &c : detail::list_checkpoints(dir)) {
      ++files;
      std::error_code ec;
      bytes += std::filesystem::file_size(c.path, ec);
    }
  } catch (const detail::Error &) {
  }
  json primary = nullptr;
  if (st.since_primary_ms >= 0)
    primary = {{"program", st.primary_program},
               {"peer", st.primary_peer},
               {"last_message_ms_ago", st.since_primary_ms},
               {"queued_bytes", st.queued_bytes}};
  json doc{{"pid", ::getpid()},
           {"listen", listen},
           {"service", service}, // --service, with --coordinator
           {"updated_unix_ms", unix_ms()},
           {"generation", st.generation},
           {"durable_epoch", st.durable},
           {"durable_generation", st.durable_generation},
           {"chain_id", st.chain_id},
           {"chain_broken", st.broken},
           {"primary", primary},
           {"takeover", {{"armed", takeover}, {"timeout_ms", timeout_ms}, {"done", st.taken_over}}},
           {"store", {{"files", files}, {"bytes", bytes}}},
           {"compaction_running", st.compacting}};
  return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

void write_status(const std::string &dir, const std::string &text) {
  // Written aside and renamed: a reader never sees half a file (a crash
  // leaves a .tmp that the store's next open removes).
  std::string path = dir + "/" + kStatusFile, tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << text;
    if (!f)
      return; // a full disk: the status is best effort, checkpoints are not
  }
  std::rename(tmp.c_str(), path.c_str());
}

namespace {

json read_status_file(const std::string &dir) {
  std::string path = dir + "/" + kStatusFile;
  std::ifstream f(path);
  if (!f)
    throw std::runtime_error("no " + std::string(kStatusFile) + " (is `checksync-rt serve --dir " +
                             dir + "` running, or has it ever?)");
  return json::parse(f);
}

bool is_endpoint(const std::string &target) {
  std::error_code ec;
  return !std::filesystem::is_directory(target, ec) && target.find(':') != std::string::npos;
}

} // namespace

int run_status(const StatusOptions &opts) {
  json doc;
  try {
    if (is_endpoint(opts.dir)) {
      const char *secret = std::getenv("CHECKSYNC_SECRET");
      if (!secret || !*secret) {
        std::fprintf(stderr,
                     "checksync-rt status: set CHECKSYNC_SECRET (the secret serve "
                     "holds) to ask %s\n",
                     opts.dir.c_str());
        return 1;
      }
      doc = json::parse(ha::query_status(opts.dir, secret, opts.timeout_ms));
    } else {
      doc = read_status_file(opts.dir);
    }
  } catch (const ha::StatusQueryFailure &e) {
    std::fprintf(stderr, "checksync-rt status: %s: %s\n", opts.dir.c_str(), e.what());
    return e.code;
  } catch (const std::exception &e) { // bad JSON, a malformed frame, a bad address
    std::fprintf(stderr, "checksync-rt status: %s: %s\n", opts.dir.c_str(), e.what());
    return 2;
  }
  std::int64_t age = unix_ms() - doc.value("updated_unix_ms", std::int64_t(0));
  bool stale = age > 5000;
  if (opts.json) {
    doc["stale"] = stale;
    std::fputs((doc.dump(2) + "\n").c_str(), stdout);
    return stale ? 3 : 0;
  }
  std::printf("serve pid %lld on %s, updated %.1f s ago%s\n",
              (long long)doc.value("pid", 0), doc.value("listen", "?").c_str(), age / 1000.0,
              stale ? " (STALE: serve is not running or is stuck)" : "");
  std::printf("generation %llu, durable epoch %llu%s\n",
              (unsigned long long)doc.value("generation", 0ull),
              (unsigned long long)doc.value("durable_epoch", 0ull),
              doc.value("chain_broken", false) ? " (chain broken: waiting for a full checkpoint)"
                                               : "");
  if (doc["primary"].is_null())
    std::printf("primary: none has connected\n");
  else
    std::printf("primary: %s from %s, last message %lld ms ago, %llu bytes received and not "
                "yet written\n",
                doc["primary"].value("program", "?").c_str(),
                doc["primary"].value("peer", "?").c_str(),
                (long long)doc["primary"].value("last_message_ms_ago", 0),
                (unsigned long long)doc["primary"].value("queued_bytes", 0ull));
  const json &t = doc["takeover"];
  std::printf("takeover: %s\n", t.value("done", false)    ? "done (the program runs here)"
                                : t.value("armed", false) ? "armed"
                                                          : "off");
  std::printf("store: %llu files, %llu bytes; compaction %s\n",
              (unsigned long long)doc["store"].value("files", 0ull),
              (unsigned long long)doc["store"].value("bytes", 0ull),
              doc.value("compaction_running", false) ? "running" : "idle");
  return stale ? 3 : 0;
}

} // namespace checksync::cli
