// Library-typed fields through their codecs: encode, decode, marking through
// containers and smart pointers, shared ownership, records inside containers.
// The descriptors below are written by hand as the pass emits them, with
// offsetof on types that hold library members (not standard-layout): what the
// pass computes from the record layout, which is well defined for them.
#pragma clang diagnostic ignored "-Winvalid-offsetof"
#include "format/format.h"
#include "schema/registry.h"
#include "runtime/restore.h"
#include "test_types.h"

#include <gtest/gtest.h>

#include <cstddef>

using namespace checksync::detail;
using checksync::codec::entry;
using cstest::Node;

namespace cstest {
struct Tag {
  std::int32_t weight;
  std::string label;
};
struct Doc {
  std::string title;
  std::vector<Node *> links;
  std::unique_ptr<Node> owned;
  std::map<std::string, std::int64_t> counts;
  std::optional<std::string> note;
  std::shared_ptr<Node> shared_a, shared_b;
  std::vector<Tag> tags;
  std::unordered_map<std::string, Node *> index;
  Node *inner; // interior ref: &node->weight
};
Doc *root_doc = nullptr;
} // namespace cstest

namespace {
using cstest::Doc;
using cstest::Tag;
const checksync_field_desc tag_fields[] = {
    {"weight", offsetof(Tag, weight), CHECKSYNC_FIELD_INT, 4, 1, nullptr, nullptr},
    {"label", offsetof(Tag, label), CHECKSYNC_FIELD_CODEC, sizeof(std::string), 1,
     "std::string", &entry<std::string>},
};
#define CODEC_FIELD(f, T)                                                                   \
  {#f, offsetof(Doc, f), CHECKSYNC_FIELD_CODEC, sizeof(T), 1, #T, &entry<T>}
using NodeVec = std::vector<Node *>;
using NodeUP = std::unique_ptr<Node>;
using Counts = std::map<std::string, std::int64_t>;
using Note = std::optional<std::string>;
using NodeSP = std::shared_ptr<Node>;
using Tags = std::vector<Tag>;
using Index = std::unordered_map<std::string, Node *>;
const checksync_field_desc doc_fields[] = {
    CODEC_FIELD(title, std::string), CODEC_FIELD(links, NodeVec), CODEC_FIELD(owned, NodeUP),
    CODEC_FIELD(counts, Counts),     CODEC_FIELD(note, Note),     CODEC_FIELD(shared_a, NodeSP),
    CODEC_FIELD(shared_b, NodeSP),   CODEC_FIELD(tags, Tags),     CODEC_FIELD(index, Index),
    {"inner", offsetof(Doc, inner), CHECKSYNC_FIELD_REF, 8, 1, "N6cstest4NodeE", nullptr},
};
const checksync_type_desc types[] = {
    {"N6cstest3DocE", "cstest::Doc", sizeof(Doc), alignof(Doc), 10, doc_fields},
    {"N6cstest3TagE", "cstest::Tag", sizeof(Tag), alignof(Tag), 2, tag_fields},
};
const checksync_root_desc roots[] = {
    {&cstest::root_doc, {"cstest::root_doc", 0, CHECKSYNC_FIELD_REF, 8, 1, "N6cstest3DocE", nullptr}},
};
const checksync_module_desc module = {CHECKSYNC_ABI_VERSION, 2, types, 1, roots};

const Snapshot &snapshot() {
  cstest::registered();
  static bool once = (checksync_rt_register_module(&module), true);
  (void)once;
  return registry_snapshot();
}

Doc *new_doc() {
  void *p = checksync_rt_new(&types[0], sizeof(Doc));
  return ::new (p) Doc{};
}

std::unique_ptr<Image> checkpoint_now() {
  auto &s = snapshot();
  static std::uint32_t m = 60000;
  MarkResult r = mark_from_roots(s.types, s.roots, ++m);
  ImageInfo info;
  info.epoch = 1;
  return decode_image(encode_full(info, s.types, s.roots, r), "mem");
}
} // namespace

TEST(Codec, LibraryFieldsRoundTripWithRefsInside) {
  auto &s = snapshot();
  Doc *d = new_doc();
  Node *n1 = cstest::new_node(11), *n2 = cstest::new_node(22), *n3 = cstest::new_node(33);
  d->title = std::string(100, 'x') + "long title beyond SSO";
  d->links = {n1, n2, n1, nullptr};
  d->owned.reset(cstest::new_node(44));
  d->counts = {{"a", -1}, {"b", 1LL << 50}};
  d->note = "short";
  d->shared_a = std::shared_ptr<Node>(n3);
  d->shared_b = d->shared_a;
  d->tags = {{1, "one"}, {2, std::string(40, 'y')}};
  d->index = {{"first", n1}, {"second", n2}};
  d->inner = reinterpret_cast<Node *>(&n2->weight);
  cstest::root_doc = d;

  auto img = checkpoint_now();
  EXPECT_EQ(img->objects.size(), 5u); // doc, n1, n2, n3, owned

  cstest::root_doc = nullptr;
  restore_image(*img, s.types, s.roots);
  Doc *r = cstest::root_doc;
  ASSERT_NE(r, nullptr);
  ASSERT_NE(r, d);
  EXPECT_EQ(r->title, d->title);
  ASSERT_EQ(r->links.size(), 4u);
  EXPECT_EQ(r->links[0], r->links[2]); // sharing preserved
  EXPECT_NE(r->links[0], n1);          // new objects
  EXPECT_EQ(r->links[0]->key, 11);
  EXPECT_EQ(r->links[1]->key, 22);
  EXPECT_EQ(r->links[3], nullptr);
  ASSERT_TRUE(r->owned);
  EXPECT_EQ(r->owned->key, 44);
  EXPECT_EQ(r->counts, d->counts);
  EXPECT_EQ(r->note, d->note);
  ASSERT_TRUE(r->shared_a);
  EXPECT_EQ(r->shared_a, r->shared_b);
  EXPECT_EQ(r->shared_a.use_count(), 2); // two owners of one object, one block
  EXPECT_EQ(r->shared_a->key, 33);
  ASSERT_EQ(r->tags.size(), 2u);
  EXPECT_EQ(r->tags[1].label, d->tags[1].label);
  EXPECT_EQ(r->tags[0].weight, 1);
  EXPECT_EQ(r->index.at("first"), r->links[0]);
  EXPECT_EQ(r->index.at("second"), r->links[1]);
  EXPECT_EQ(reinterpret_cast<char *>(r->inner), reinterpret_cast<char *>(&r->links[1]->weight));
  cstest::root_doc = nullptr;
}

TEST(Codec, CorruptLibraryValueIsACleanError) {
  auto &s = snapshot();
  Doc *d = new_doc();
  d->counts = {{"k", 5}};
  cstest::root_doc = d;
  auto img = checkpoint_now();
  cstest::root_doc = nullptr;
  // The title (a str) decoded as a map: the codec rejects it with an Error.
  const_cast<msgpack::object &>(img->objects[0].values[3]) = img->objects[0].values[0];
  EXPECT_THROW(restore_image(*img, s.types, s.roots), Error);
}
