// Compaction's streaming merge (store/merge.h) against the reference: the
// decoded, validated merge of the same chain (load_chain). Both, re-encoded,
// must be the same bytes; chains that end early end the merge the same way.
#include "store/merge.h"
#include "store/chain.h"
#include "heap/dirty.h"
#include "format/format.h"
#include "test_types.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

using namespace checksync::detail;
using cstest::Node;

namespace {

std::uint32_t stamp() {
  static std::uint32_t s = 300000;
  return ++s;
}

std::string temp_dir(const char *name) {
  auto d = std::filesystem::temp_directory_path() /
           (std::string("checksync-merge-") + name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(d);
  return d.string();
}

// A program's life over `epochs`: random new nodes, writes and deletes, a
// base at epoch 1 and a delta per later epoch, written into dir.
struct History {
  std::vector<Node *> live;
  std::mt19937_64 rng{42};
  std::uint64_t chain_id = 9;

  void write(DirStore &store, int epochs) {
    auto &s = cstest::registered();
    collect_dirty(stamp());
    take_freed_ids();
    for (int i = 0; i < 200; ++i)
      grow();
    ImageInfo info;
    info.epoch = 1;
    info.chain_id = chain_id;
    collect_dirty(stamp());
    store.write(1, true, encode_full(info, s.types, s.roots,
                                     mark_from_roots(s.types, s.roots, stamp())));
    take_freed_ids();
    for (int e = 2; e <= epochs; ++e) {
      for (int k = 0; k < 60; ++k)
        step();
      DirtySet d = collect_dirty(stamp());
      std::sort(d.objects.begin(), d.objects.end(),
                [](const ObjHeader *x, const ObjHeader *y) { return x->id < y->id; });
      ImageInfo di = info;
      di.kind = "delta";
      di.epoch = std::uint64_t(e);
      di.prev_epoch = std::uint64_t(e - 1);
      store.write(di.epoch, false, encode_image(di, s.types, s.roots, d.objects, take_freed_ids()));
    }
  }
  // A new node linked into the list from the root (reachable).
  void grow() {
    Node *n = cstest::new_node(std::int64_t(rng() % 1000));
    n->next = cstest::root_node;
    cstest::root_node = n;
    live.push_back(n);
  }
  void step() {
    switch (rng() % 4) {
    case 0:
      grow();
      break;
    case 1: { // a write
      Node *n = live[rng() % live.size()];
      n->weight = double(rng() % 100) / 3;
      checksync_rt_mark_range(&n->weight, sizeof n->weight);
      break;
    }
    case 2: { // unlink the head and delete it
      Node *n = cstest::root_node;
      if (!n || !n->next)
        break;
      cstest::root_node = n->next;
      live.erase(std::find(live.begin(), live.end(), n));
      for (Node *m : live) // no reachable object may point to a deleted one
        if (m->other == n) {
          m->other = nullptr;
          checksync_rt_mark_range(&m->other, sizeof m->other);
        }
      delete n;
      break;
    }
    default: { // a ref written
      Node *n = live[rng() % live.size()];
      n->other = live[rng() % live.size()];
      checksync_rt_mark_range(&n->other, sizeof n->other);
    }
    }
  }
  ~History() {
    cstest::root_node = nullptr;
    for (Node *n : live)
      delete n;
  }
};

// The reference: the chain decoded, merged and validated, re-encoded with
// the statistics a base carries (its objects and their payload).
std::string reference(const std::string &path) {
  std::string note;
  auto img = load_chain(path, &note);
  img->info.stats = {};
  img->info.stats.objects = img->objects.size();
  for (std::size_t i = 0; i < img->objects.size(); ++i)
    img->info.stats.payload_bytes += img->object_bytes(i);
  return encode_merged(*img);
}

// Same bytes, or say where they differ (not the whole files).
void expect_same(const std::string &a, const std::string &b) {
  auto m = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
  EXPECT_TRUE(a == b) << "sizes " << a.size() << " and " << b.size() << ", first difference at "
                      << (m.first - a.begin());
}

// A directory holding the first `epochs` epochs of h.
std::string history_dir(const char *name, History &h, int epochs) {
  std::string dir = temp_dir(name);
  DirStore store(dir);
  h.write(store, epochs);
  return dir;
}

OpenOutput opener(DirStore &store) {
  return [&store](std::uint64_t e) { return store.begin(e, /*full=*/true); };
}

std::string merge_into(const std::string &dir, std::uint64_t *epoch) {
  DirStore store(dir);
  ChainFiles chain = find_chain(dir);
  MergedBase m = merge_files(chain, opener(store));
  m.file->sync();
  EXPECT_TRUE(store.commit_compacted(*m.file, m.epoch, chain.base.epoch));
  *epoch = m.epoch;
  return read_whole_file(find_chain(dir).base.path);
}

} // namespace

TEST(Merge, StreamingMergeEqualsTheDecodedMerge) {
  History h;
  std::string dir = history_dir("equal", h, 12);
  std::string note;
  load_chain(dir, &note);
  EXPECT_EQ(note, "") << "the whole chain is valid";
  std::string expected = reference(dir);
  std::uint64_t epoch = 0;
  std::string merged = merge_into(dir, &epoch);
  EXPECT_EQ(epoch, 12u);
  EXPECT_EQ(list_checkpoints(dir).size(), 1u) << "the merged deltas are pruned";
  auto img = decode_image(merged, "merged"); // a valid full checkpoint
  EXPECT_EQ(img->info.kind, "full");
  // Only the object list's header may differ (array32: its count is written
  // last): compare the canonical re-encodings.
  expect_same(encode_merged(*img), expected);
  std::filesystem::remove_all(dir);
}

TEST(Merge, ADeltaThatDoesNotLinkEndsTheMerge) {
  History h;
  std::string dir = history_dir("link", h, 6);
  // Epoch 5 corrupt: the merge stops at 4, as load_chain does; 5 and 6 stay.
  std::string five = dir + "/delta-00000000000000000005.csk";
  std::string bytes = read_whole_file(five);
  bytes[bytes.size() / 2] ^= 1;
  write_file_durably(dir, "delta-00000000000000000005.csk", bytes);
  std::string expected = reference(dir);
  std::uint64_t epoch = 0;
  expect_same(encode_merged(*decode_image(merge_into(dir, &epoch), "merged")), expected);
  EXPECT_EQ(epoch, 4u);
  EXPECT_EQ(list_checkpoints(dir).size(), 3u); // base 4, deltas 5 and 6
  std::filesystem::remove_all(dir);
}

TEST(Merge, ADeltaOfAnotherChainIsRefused) {
  std::string dir = temp_dir("chain");
  History h;
  {
    DirStore store(dir);
    h.write(store, 3);
    // Another base at epoch 1 with another chain id under the same deltas.
    auto &s = cstest::registered();
    ImageInfo info;
    info.epoch = 1;
    info.chain_id = 10;
    store.write(1, true, encode_full(info, s.types, s.roots,
                                     mark_from_roots(s.types, s.roots, stamp())));
  }
  DirStore store(dir);
  EXPECT_THROW(merge_files(find_chain(dir), opener(store)),
               Error);
  std::filesystem::remove_all(dir);
}

TEST(Merge, StopAbandonsWithoutWriting) {
  History h;
  std::string dir = history_dir("stop", h, 4);
  DirStore store(dir);
  std::atomic<bool> stop{true};
  EXPECT_THROW(merge_files(find_chain(dir), opener(store),
                           &stop),
               Abandoned);
  EXPECT_EQ(list_checkpoints(dir).size(), 4u);
  std::filesystem::remove_all(dir);
}

// A full checkpoint of a new chain committed while a merge ran wins.
TEST(Merge, AMergeOfAReplacedChainIsDropped) {
  History h;
  std::string dir = history_dir("replaced", h, 3);
  DirStore store(dir);
  ChainFiles chain = find_chain(dir);
  MergedBase m = merge_files(chain, opener(store));
  m.file->sync();
  auto &s = cstest::registered();
  ImageInfo info;
  info.epoch = 2;
  info.chain_id = 11;
  auto f = store.begin(2, true);
  f->append(encode_full(info, s.types, s.roots, mark_from_roots(s.types, s.roots, stamp())));
  f->sync();
  store.commit(*f, true, 2, /*new_chain=*/true);
  EXPECT_FALSE(store.commit_compacted(*m.file, m.epoch, chain.base.epoch));
  ASSERT_EQ(list_checkpoints(dir).size(), 1u);
  EXPECT_EQ(list_checkpoints(dir)[0].epoch, 2u);
  std::filesystem::remove_all(dir);
}

// A compacted base is stored compressed; it reads back to the same state, and
// the next compaction reads it as its base.
TEST(Merge, CompressedBasesReadBackAndMergeAgain) {
  History h;
  std::string dir = history_dir("zstd", h, 6);
  std::string expected = reference(dir);
  {
    DirStore store(dir);
    ChainFiles chain = find_chain(dir);
    MergedBase m = merge_files(chain, opener(store));
    auto z = store.begin(m.epoch, true);
    std::uint64_t bytes = compress_checkpoint(*m.file, m.body_end, *z, 1);
    z->sync();
    ASSERT_TRUE(store.commit_compacted(*z, m.epoch, chain.base.epoch));
    EXPECT_LT(bytes, m.bytes);
  }
  std::string stored = read_whole_file(find_chain(dir).base.path);
  EXPECT_EQ(check_envelope(stored, "base"), kCompressedVersion);
  auto img = decode_image(stored, "base");
  EXPECT_TRUE(img->compressed);
  EXPECT_EQ(img->version, 3u);
  expect_same(encode_merged(*img), expected);

  // Two more epochs on top, merged with the compressed base.
  {
    DirStore store(dir);
    auto &s = cstest::registered();
    for (std::uint64_t e = 7; e <= 8; ++e) {
      for (int k = 0; k < 60; ++k)
        h.step();
      DirtySet d = collect_dirty(stamp());
      std::sort(d.objects.begin(), d.objects.end(),
                [](const ObjHeader *x, const ObjHeader *y) { return x->id < y->id; });
      ImageInfo di;
      di.chain_id = h.chain_id;
      di.kind = "delta";
      di.epoch = e;
      di.prev_epoch = e - 1;
      store.write(e, false, encode_image(di, s.types, s.roots, d.objects, take_freed_ids()));
    }
  }
  std::string expected2 = reference(dir);
  std::uint64_t epoch = 0;
  expect_same(encode_merged(*decode_image(merge_into(dir, &epoch), "merged")), expected2);
  EXPECT_EQ(epoch, 8u);
  std::filesystem::remove_all(dir);
}

// A compressed body that is not what it says (a forger can recompute the
// unkeyed checksum): a clear error, never a crash or a huge allocation.
TEST(Merge, ForgedCompressedBodiesAreErrors) {
  auto seal_as = [](std::string body, std::uint64_t frame_size_claim) {
    (void)frame_size_claim;
    std::string f(kFileMagic, 8);
    std::uint32_t v = kCompressedVersion, flags = kFlagZstd;
    f.append(reinterpret_cast<char *>(&v), 4).append(reinterpret_cast<char *>(&flags), 4);
    f += body;
    std::uint64_t len = body.size(), sum = XXH3_64bits(f.data(), f.size());
    f.append(reinterpret_cast<char *>(&len), 8).append(reinterpret_cast<char *>(&sum), 8);
    return f;
  };
  // Not a zstd frame.
  EXPECT_THROW(parse_image(seal_as("not zstd at all", 0), "forged"), Error);
  // A frame header claiming 2^60 bytes of content, with no content.
  std::string huge = {'\x28', '\xb5', '\x2f', '\xfd', '\xc0'}; // magic, FCS 8 bytes, single segment
  std::uint64_t claim = std::uint64_t(1) << 60;
  huge.append(reinterpret_cast<char *>(&claim), 8);
  try {
    parse_image(seal_as(huge, claim), "forged");
    ADD_FAILURE() << "no error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("forged"), std::string::npos) << e.what();
  }
  // Unknown flags in a version 4 file.
  std::string f = seal_as("x", 0);
  f[12] = 2;
  EXPECT_THROW(check_envelope(f, "flags"), Error);
}
