// merge.cpp - see merge.h.
#include "store/merge.h"

#include "log/progress.h"

#include "format/image_writer.h"
#include "format/raw_image.h"
#include "format/compression.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <unordered_map>

namespace checksync::detail {
namespace {

// What the deltas say about one id: its newest copy, or that it was freed.
struct Change {
  std::uint64_t id;
  std::uint32_t part; // index in the chain: later wins
  bool freed;
  std::uint32_t type; // in the output's schema
  std::uint64_t count;
  std::string_view values;
};

// Packs into a buffer that goes to the file a megabyte at a time.
struct Sink {
  PendingFile &out;
  OutBuffer buf{1 << 16}; // grows to the flush size only for large merges
  Packer pk{buf};
  std::uint64_t written = 0;
  void flush() {
    out.append(std::string_view(buf.data(), buf.size()));
    written += buf.size();
    buf.clear();
  }
  void maybe_flush() {
    if (buf.size() >= (1u << 20))
      flush();
  }
  std::uint64_t pos() const { return written + buf.size(); }
};

// Part types -> output types, by key; a chain never mixes schemas.
std::vector<std::uint32_t> map_types(const RawImage &part, const RawImage &last) {
  std::unordered_map<std::string, std::uint32_t> by_key;
  for (std::uint32_t i = 0; i < last.types.size(); ++i)
    by_key.emplace(last.types[i].key, i);
  std::vector<std::uint32_t> map(part.types.size());
  for (std::size_t i = 0; i < part.types.size(); ++i) {
    auto it = by_key.find(part.types[i].key);
    if (it == by_key.end() ||
        part.types[i].fields.size() != last.types[it->second].fields.size() ||
        part.types[i].size != last.types[it->second].size)
      throw Error(part.path() + ": the chain mixes schemas (type " + part.types[i].name + ")");
    map[i] = it->second;
  }
  return map;
}

// The file's trailer (format.h): body length, then the XXH3-64 of header + body.
void append_trailer(PendingFile &f, std::uint64_t body_len, std::uint64_t sum) {
  char tail[kTrailerBytes];
  std::memcpy(tail, &body_len, 8);
  std::memcpy(tail + 8, &sum, 8);
  f.append(std::string_view(tail, kTrailerBytes));
}

void check_stop(const std::atomic<bool> *stop) {
  if (stop && stop->load(std::memory_order_relaxed))
    throw Abandoned("compaction abandoned");
}

// The deltas that link to the base, each to the one before (as load_chain
// reads them), and every change they make, newest first per id with one
// entry per id, in the newest schema's type indices.
struct DeltaChanges {
  std::vector<std::unique_ptr<RawImage>> deltas;
  std::vector<Change> changes;
  std::uint32_t version; // the oldest part's, the base's included
};

DeltaChanges read_deltas(const RawImage &base, const ChainFiles &chain,
                         const std::atomic<bool> *stop) {
  DeltaChanges r{{}, {}, base.version};
  std::uint64_t prev_epoch = base.info.epoch;
  for (const StoredCheckpoint &file : chain.deltas) {
    check_stop(stop);
    auto part = std::uint32_t(r.deltas.size() + 1);
    std::unique_ptr<RawImage> d;
    std::vector<Change> mine;
    try {
      d = std::make_unique<RawImage>(file.path);
      RawObject o;
      while (d->next(o))
        mine.push_back({o.id, part, false, o.type, o.count, o.values});
    } catch (const std::exception &) {
      break; // torn or corrupt (or too large to index): what load_chain ignores too
    }
    if (d->info.kind != "delta" || d->info.prev_epoch != prev_epoch ||
        (!r.deltas.empty() && d->info.chain_id != r.deltas[0]->info.chain_id))
      break;
    for (std::uint64_t id : d->freed)
      mine.push_back({id, part, true, 0, 0, {}});
    r.changes.insert(r.changes.end(), mine.begin(), mine.end());
    prev_epoch = d->info.epoch;
    r.version = std::min(r.version, d->version);
    r.deltas.push_back(std::move(d));
  }
  if (r.deltas.empty())
    throw Error(chain.deltas.front().path + ": does not follow its base");
  const RawImage &last = *r.deltas.back();
  std::vector<std::vector<std::uint32_t>> maps;
  for (auto &d : r.deltas)
    maps.push_back(map_types(*d, last));
  for (Change &ch : r.changes)
    if (!ch.freed)
      ch.type = maps[ch.part - 1][ch.type];
  std::sort(r.changes.begin(), r.changes.end(), [](const Change &a, const Change &b) {
    if (a.id != b.id)
      return a.id < b.id;
    if (a.part != b.part)
      return a.part > b.part;
    return a.freed > b.freed; // a delta's freed ids apply after its objects
  });
  r.changes.erase(std::unique(r.changes.begin(), r.changes.end(),
                              [](const Change &a, const Change &b) { return a.id == b.id; }),
                  r.changes.end());
  return r;
}

// The object list: the base's objects, replaced or dropped by the changes,
// and the new ones, in id order. Returns how many were written.
std::uint64_t write_objects(Sink &s, RawImage &base, const RawImage &last,
                            const std::vector<Change> &changes, ImageInfo &info,
                            const std::atomic<bool> *stop, log::Progress &progress) {
  auto base_map = map_types(base, last);
  std::uint64_t prev_id = 0, n = 0;
  auto emit = [&](std::uint64_t id, std::uint32_t type, std::uint64_t count,
                  std::string_view values) {
    s.pk.pack_array(std::uint32_t(3 + count * last.types[type].fields.size()));
    s.pk.pack(id - prev_id);
    s.pk.pack(type);
    s.pk.pack(count);
    s.buf.write(values.data(), values.size());
    prev_id = id;
    ++n;
    info.stats.payload_bytes += count * last.types[type].size;
    s.maybe_flush();
  };
  std::size_t c = 0;
  auto emit_changes_below = [&](std::uint64_t id) {
    for (; c < changes.size() && changes[c].id < id; ++c)
      if (!changes[c].freed)
        emit(changes[c].id, changes[c].type, changes[c].count, changes[c].values);
  };
  base.drop_behind(); // each base object is copied before the next is read
  RawObject o;
  while (base.next(o)) {
    if ((n & 0xffff) == 0) {
      check_stop(stop);
      progress.done(n);
    }
    emit_changes_below(o.id);
    if (c < changes.size() && changes[c].id == o.id) {
      if (!changes[c].freed)
        emit(o.id, changes[c].type, changes[c].count, changes[c].values);
      ++c;
    } else {
      emit(o.id, base_map[o.type], o.count, o.values);
    }
  }
  for (; c < changes.size(); ++c) // new objects above the base's last id
    if (!changes[c].freed)
      emit(changes[c].id, changes[c].type, changes[c].count, changes[c].values);
  if (n >> 32)
    throw Error(base.path() + ": too many objects for one checkpoint file");
  return n;
}

} // namespace

MergedBase merge_files(const ChainFiles &chain, const OpenOutput &open,
                       const std::atomic<bool> *stop, bool seal) {
  RawImage base(chain.base.path);
  if (base.info.kind != "full")
    throw Error(base.path() + ": the chain does not start with a full checkpoint");
  DeltaChanges d = read_deltas(base, chain, stop);
  const RawImage &last = *d.deltas.back();
  std::uint32_t version = std::min(d.version, kFormatVersion);

  // Header and the parts before the objects: the newest part's.
  std::unique_ptr<PendingFile> file = open(last.info.epoch);
  PendingFile &out = *file;
  Sink s{out};
  pack_header(s.buf, version);
  ImageInfo info = last.info;
  info.kind = "full";
  info.prev_epoch = 0;
  info.stats = {};
  pack_info_head(s.pk, info, version);
  s.buf.write(last.schema_bytes.data(), last.schema_bytes.size());
  s.buf.write(last.roots_bytes.data(), last.roots_bytes.size());
  s.pk.pack_array(2);
  s.pk.pack(info.live_objects);
  s.pk.pack(info.live_bytes);
  std::uint64_t count_at = s.pos();
  const char placeholder[5] = {char(0xdd), 0, 0, 0, 0}; // array32, count patched below
  s.buf.write(placeholder, 5);

  log::Progress progress("compaction into epoch " + std::to_string(info.epoch),
                         base.object_count, log::Progress::Unit::Objects);
  progress.step("copying the base's objects with the deltas' changes");
  std::uint64_t n = write_objects(s, base, last, d.changes, info, stop, progress);
  // The base's chain id is in its tail, read by the scan.
  if (d.deltas[0]->info.chain_id != base.info.chain_id)
    throw Error(d.deltas[0]->path() + ": broken chain: it belongs to another chain than its base");
  info.stats.objects = n;
  pack_tail(s.pk, info, {}, version);
  s.flush();

  char count_be[4];
  for (int i = 0; i < 4; ++i)
    count_be[i] = char(n >> (24 - 8 * i));
  out.patch(count_at + 1, std::string_view(count_be, 4));
  MergedBase m{std::move(file), info.epoch, s.pos(), 0, n, version};
  // The checksum reads the file back: only for the file that is committed
  // (a compressed copy computes its own as it is written).
  if (seal)
    m.bytes = seal_checkpoint(*m.file, m.body_end);
  return m;
}

std::uint64_t seal_checkpoint(PendingFile &f, std::uint64_t body_end) {
  append_trailer(f, body_end - kHeaderBytes, f.checksum(body_end));
  return body_end + kTrailerBytes;
}

std::uint64_t compress_checkpoint(PendingFile &plain, std::uint64_t body_end, PendingFile &out,
                                  int level, const std::atomic<bool> *stop) {
  if (body_end < kHeaderBytes)
    throw Error(plain.temp_path() + ": not a checkpoint file");
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> st(XXH3_createState(), XXH3_freeState);
  XXH3_64bits_reset(st.get());
  std::uint64_t written = 0;
  auto put = [&](std::string_view b) {
    XXH3_64bits_update(st.get(), b.data(), b.size());
    out.append(b);
    written += b.size();
  };
  char head[kHeaderBytes];
  if (plain.read_at(0, head, kHeaderBytes) != kHeaderBytes)
    throw Error(plain.temp_path() + ": short file");
  std::uint32_t version = kCompressedVersion, flags = kFlagZstd;
  std::memcpy(head + 8, &version, 4);
  std::memcpy(head + 12, &flags, 4);
  put(std::string_view(head, kHeaderBytes));
  std::uint64_t body = body_end - kHeaderBytes;
  ZstdWriter z(level, body, put);
  std::string buf(std::min<std::uint64_t>(body, 1 << 20), '\0');
  for (std::uint64_t at = 0; at < body;) {
    std::size_t n = plain.read_at(kHeaderBytes + at, buf.data(), std::min<std::uint64_t>(buf.size(), body - at));
    if (n == 0)
      throw Error(plain.temp_path() + ": short file");
    z.write(std::string_view(buf.data(), n));
    at += n;
    check_stop(stop);
  }
  z.finish();
  append_trailer(out, written - kHeaderBytes, XXH3_64bits_digest(st.get()));
  return written + kTrailerBytes;
}

} // namespace checksync::detail
