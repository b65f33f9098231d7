// chain.cpp - base + deltas (see chain.h).
#include "store/chain.h"

#include "store/store.h"
#include "log/progress.h"

#include <chrono>
#include <filesystem>
#include <thread>

namespace checksync::detail {
namespace {

bool is_dir(const std::string &path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec);
}

std::uint64_t file_size_or_0(const std::string &path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : std::uint64_t(n);
}

void check_exists(const std::string &path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw Error(path + ": no such file or directory");
}

bool all_exist(const ChainFiles &chain) {
  std::error_code ec;
  if (!std::filesystem::exists(chain.base.path, ec))
    return false;
  for (const StoredCheckpoint &d : chain.deltas)
    if (!std::filesystem::exists(d.path, ec))
      return false;
  return true;
}

// Reads a directory's chain with `read`, again if files it listed vanished
// meanwhile: a running serve (or the program's compactor) replaces a chain
// by a new full checkpoint or a merged base and deletes the old files. A
// read that failed, or stopped early at a delta, because of that is not the
// directory's state; a complete one, or one whose files all still exist,
// is. Retried for at most 5 s.
template <class Read> auto read_stable_chain(const std::string &dir, std::string *note, Read read) {
  std::string own_note;
  std::string &why = note ? *note : own_note; // set when the read stopped early
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    why.clear();
    ChainFiles chain;
    bool last = std::chrono::steady_clock::now() > give_up;
    try {
      chain = find_chain(dir);
      auto result = read(chain, why);
      if (why.empty() || last || all_exist(chain))
        return result;
    } catch (const Error &) {
      if (last || (!chain.base.path.empty() && all_exist(chain)))
        throw;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

} // namespace

std::unique_ptr<Image> parse_link(std::string bytes, const std::string &what,
                                  std::uint64_t tip, std::uint64_t chain_id) {
  auto part = parse_image(std::move(bytes), what);
  if (part->info.kind != "delta" || part->info.prev_epoch != tip)
    throw Error(what + ": it follows epoch " + std::to_string(part->info.prev_epoch) +
                ", not " + std::to_string(tip));
  if (part->info.chain_id != chain_id)
    throw OtherChain(what + ": it belongs to another chain (another run's checkpoints)");
  return part;
}

std::unique_ptr<Image> load_chain(const std::string &path, std::string *note) {
  check_exists(path);
  std::vector<std::unique_ptr<Image>> parts;
  if (!is_dir(path)) {
    parts.push_back(parse_image(read_whole_file(path), path));
    if (parts.back()->info.kind != "full")
      throw Error(path + ": a delta cannot be resumed alone; resume from its directory");
    return merge_chain(std::move(parts), path);
  }
  return read_stable_chain(path, note, [&](const ChainFiles &chain, std::string &why) {
    std::uint64_t total = file_size_or_0(chain.base.path), done = 0;
    for (const StoredCheckpoint &d : chain.deltas)
      total += file_size_or_0(d.path);
    log::Progress progress("loading " + path, total);
    // A merged chain that does not validate (a reachable ref to nothing) ends
    // at the longest prefix that does: what resume restores, and what serve
    // announces, is always a state some prefix of the chain describes.
    std::size_t limit = chain.deltas.size();
    for (;;) {
      parts.clear();
      progress.step("reading the base");
      parts.push_back(parse_image(read_whole_file(chain.base.path), chain.base.path));
      progress.done(done = parts.back()->file_bytes);
      for (std::size_t i = 0; i < limit; ++i) {
        const StoredCheckpoint &d = chain.deltas[i];
        progress.step("reading delta " + std::to_string(i + 1) + " of " + std::to_string(limit));
        try {
          parts.push_back(parse_link(read_whole_file(d.path), d.path, parts.back()->info.epoch,
                                     parts.front()->info.chain_id));
          progress.done(done += parts.back()->file_bytes);
        } catch (const Error &e) {
          why = "ignored " + d.path + " and later deltas: " + e.what();
          break;
        }
      }
      std::size_t deltas = parts.size() - 1;
      progress.step("merging and checking " + std::to_string(deltas + 1) + " files");
      try {
        return merge_chain(std::move(parts), path);
      } catch (const Error &e) {
        if (deltas == 0)
          throw;
        why = "ignored " + chain.deltas[deltas - 1].path + " and later deltas: " + e.what();
        limit = deltas - 1;
      }
    }
  });
}

std::unique_ptr<Image> load_chain_at(const std::string &dir, std::uint64_t epoch) {
  check_exists(dir);
  if (!is_dir(dir))
    throw Error(dir + ": not a checkpoint directory");
  ChainFiles chain = find_chain(dir);
  if (epoch < chain.base.epoch)
    throw Error(dir + ": epoch " + std::to_string(epoch) + " is not stored here (the oldest is " +
                std::to_string(chain.base.epoch) + "; older epochs were compacted away)");
  std::vector<std::unique_ptr<Image>> parts;
  parts.push_back(parse_image(read_whole_file(chain.base.path), chain.base.path));
  for (const StoredCheckpoint &d : chain.deltas) {
    if (parts.back()->info.epoch >= epoch)
      break;
    parts.push_back(parse_link(read_whole_file(d.path), d.path, parts.back()->info.epoch,
                               parts.front()->info.chain_id));
  }
  if (parts.back()->info.epoch != epoch)
    throw Error(dir + ": epoch " + std::to_string(epoch) + " is not stored here (epochs " +
                std::to_string(chain.base.epoch) + " to " +
                std::to_string(parts.back()->info.epoch) + ")");
  return merge_chain(std::move(parts), dir);
}

std::uint64_t check_chain(const std::string &path, std::string *note) {
  check_exists(path);
  if (!is_dir(path)) {
    check_envelope(read_whole_file(path), path);
    return 0;
  }
  return read_stable_chain(path, note, [&](const ChainFiles &chain, std::string &why) {
    std::uint64_t total = file_size_or_0(chain.base.path), done = 0;
    for (const StoredCheckpoint &d : chain.deltas)
      total += file_size_or_0(d.path);
    log::Progress progress("checking " + path, total);
    progress.step("reading the base");
    check_envelope(read_whole_file(chain.base.path), chain.base.path);
    progress.done(done = file_size_or_0(chain.base.path));
    std::uint64_t epoch = chain.base.epoch;
    for (const StoredCheckpoint &d : chain.deltas) {
      progress.step("reading the deltas");
      try {
        check_envelope(read_whole_file(d.path), d.path);
        progress.done(done += file_size_or_0(d.path));
      } catch (const Error &e) {
        why = std::string("ignored ") + d.path + " and later deltas: " + e.what();
        break;
      }
      epoch = d.epoch;
    }
    return epoch;
  });
}

} // namespace checksync::detail
