#include "test_types.h"

#include <cstddef>

namespace cstest {

Node *root_node = nullptr;
std::int64_t root_counter = 0;
Pair root_pair = {0, 0};

namespace {
const checksync_field_desc pair_fields[] = {
    {"a", offsetof(Pair, a), CHECKSYNC_FIELD_INT, 4, 1, nullptr},
    {"b", offsetof(Pair, b), CHECKSYNC_FIELD_FLOAT, 4, 1, nullptr},
};
const checksync_field_desc node_fields[] = {
    {"key", offsetof(Node, key), CHECKSYNC_FIELD_INT, 8, 1, nullptr},
    {"next", offsetof(Node, next), CHECKSYNC_FIELD_REF, 8, 1, "N6cstest4NodeE"},
    {"other", offsetof(Node, other), CHECKSYNC_FIELD_REF, 8, 1, "N6cstest4NodeE"},
    {"weight", offsetof(Node, weight), CHECKSYNC_FIELD_FLOAT, 8, 1, nullptr},
    {"tag", offsetof(Node, tag), CHECKSYNC_FIELD_UINT, 1, 5, nullptr},
    {"small", offsetof(Node, small), CHECKSYNC_FIELD_INT, 2, 3, nullptr},
    {"pair", offsetof(Node, pair), CHECKSYNC_FIELD_RECORD, sizeof(Pair), 1, "N6cstest4PairE"},
};
const checksync_type_desc types[] = {
    {"N6cstest4NodeE", "cstest::Node", sizeof(Node), alignof(Node), 7, node_fields},
    {"N6cstest4PairE", "cstest::Pair", sizeof(Pair), alignof(Pair), 2, pair_fields},
};
const checksync_root_desc roots[] = {
    {&root_node, {"cstest::root_node", 0, CHECKSYNC_FIELD_REF, 8, 1, "N6cstest4NodeE"}},
    {&root_counter, {"cstest::root_counter", 0, CHECKSYNC_FIELD_INT, 8, 1, nullptr}},
    {&root_pair, {"cstest::root_pair", 0, CHECKSYNC_FIELD_RECORD, sizeof(Pair), 1, "N6cstest4PairE"}},
};
const checksync_module_desc module = {CHECKSYNC_ABI_VERSION, 2, types, 3, roots};
} // namespace

const checksync::detail::Snapshot &registered() {
  static bool once = (checksync_rt_register_module(&module), true);
  (void)once;
  return checksync::detail::registry_snapshot();
}

std::uint32_t node_type() {
  registered();
  return checksync::detail::registry_index_of(&types[0]);
}

std::uint32_t pair_type() {
  registered();
  return checksync::detail::registry_index_of(&types[1]);
}

Node *new_node(std::int64_t key) {
  auto *n = static_cast<Node *>(checksync_rt_new(&types[0], sizeof(Node)));
  *n = Node{};
  n->key = key;
  return n;
}

} // namespace cstest
