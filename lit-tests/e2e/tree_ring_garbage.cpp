// A program written only against the user contract: a tree, a ring with a
// cycle, scalar and record roots, and garbage. It checkpoints, keeps mutating
// (unacknowledged), is SIGKILLed, and is resumed: the resumed digest must be
// the acknowledged one, and the garbage must not be in the checkpoint.
//
// RUN: %cs_cxx %s -o %t %cs_ldflags
// RUN: rm -rf %t.d && mkdir -p %t.d
// RUN: env CHECKSYNC_DIR=%t.d not --crash %t run > %t.first
// RUN: %csrt resume --from %t.d -- %t verify > %t.second
// RUN: grep acknowledged %t.first | sed 's/acknowledged //' > %t.expected
// RUN: grep resumed %t.second | sed 's/resumed //' > %t.actual
// RUN: diff %t.expected %t.actual
// RUN: %csrt inspect %t.d | FileCheck %s --check-prefix=INSPECT
// RUN: %csrt inspect --json %t.d | FileCheck %s --check-prefix=JSON
//
// 200 tree nodes + 50 ring nodes reachable; 250 garbage objects not written.
// INSPECT: heap at checkpoint: 500 live objects
// INSPECT-SAME: unreachable, not written: 250 objects
// INSPECT: TreeNode (size {{[0-9]+}}): 200 objects
// INSPECT: RingNode (size {{[0-9]+}}): 50 objects
// INSPECT: roots:
// INSPECT-DAG: tree = #{{[0-9]+}}
// INSPECT-DAG: ring = #{{[0-9]+}}
// INSPECT-DAG: rounds = 7
// INSPECT-DAG: origin = {x=1.5, y=-2}
// JSON: "objects": 250,
// JSON: "unreachable_objects": 250,
#include "Inputs/forest.h"

#include <csignal>
#include <cstdlib>

int main(int argc, char **argv) {
  checksync::init();
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "verify") {
    if (!checksync::resumed()) {
      std::puts("not resumed");
      return 1;
    }
    if (!transients_are_null(tree)) {
      std::puts("transient field survived");
      return 1;
    }
    std::printf("resumed %s\n", digest().c_str());
    return 0;
  }
  if (checksync::resumed())
    return 2;
  std::srand(42);
  std::vector<TreeNode *> garbage;
  for (int i = 0; i < 200; ++i) {
    tree = tree_insert(tree, std::rand() % 100000);
    garbage.push_back(new TreeNode{}); // never linked: garbage
  }
  while (true) { // make sure exactly 200 distinct keys
    std::uint64_t n = 0;
    std::vector<TreeNode *> s{tree};
    while (!s.empty()) {
      TreeNode *t = s.back();
      s.pop_back();
      if (t) { ++n; s.push_back(t->left); s.push_back(t->right); }
    }
    if (n == 200) break;
    tree = tree_insert(tree, 100000 + std::rand() % 1000);
  }
  for (int i = 0; i < 50; ++i) {
    ring_push(i);
    auto *g = new RingNode{};
    g->next = ring; // garbage pointing into live state
    garbage.push_back(reinterpret_cast<TreeNode *>(g));
  }
  for (int i = 0; i < 60; ++i)
    delete new TreeNode{}; // freed: neither live nor written
  int cache_value = 5;
  tree->cache = &cache_value; // transient: not written
  rounds = 7;
  origin = {1.5f, -2.0f};
  std::uint64_t e = checksync::checkpoint();
  if (!checksync::wait_durable(e))
    return 3;
  std::printf("acknowledged %s\n", digest().c_str());
  std::fflush(stdout);
  // Unacknowledged changes after the last checkpoint: must not survive.
  tree = tree_insert(tree, -1);
  rounds = 8;
  ring->seq = 12345;
  std::raise(SIGKILL);
}
