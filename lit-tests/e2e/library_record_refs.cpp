// Refs inside records held by library values (std::vector<Edge> with
// Edge::to a Node*) keep their targets alive across a resume. Resume
// restores only objects reachable from the roots, and reachability must see
// these refs. The resumed Node is not null, and the delta after the resume
// keeps it.
//
// RUN: %cs_cxx %s -o %t %cs_ldflags
// RUN: rm -rf %t.d && env CHECKSYNC_DIR=%t.d %t | FileCheck %s
// CHECK: edges 2 to 7 8
// RUN: env CHECKSYNC_DIR=%t.d %csrt resume --from %t.d -- %t | FileCheck %s --check-prefix=RESUMED
// RESUMED: resumed edges 2 to 7 8
// RUN: %csrt resume --from %t.d -- %t | FileCheck %s --check-prefix=AGAIN
// AGAIN: resumed edges 2 to 7 9
#include <checksync/checksync.h>

#include <cstdio>
#include <vector>

struct Node;
struct [[checksync::persistent]] Edge {
  Node *to;
  int weight;
};
struct [[checksync::persistent]] Node {
  long value;
  std::vector<Edge> edges;
};
[[checksync::root]] Node *graph = nullptr;

static void show(const char *what) {
  std::printf("%sedges %zu to %ld %ld\n", what, graph->edges.size(), graph->edges[0].to->value,
              graph->edges[1].to->value);
}

int main() {
  checksync::init();
  if (checksync::resumed()) {
    show("resumed ");
    graph->edges[1].to->value = 9; // a delta on top of the resumed chain
    checksync::wait_durable(checksync::checkpoint());
    return 0;
  }
  graph = new Node{1, {}};
  graph->edges.push_back({new Node{7, {}}, 1});
  graph->edges.push_back({new Node{8, {}}, 2});
  checksync::wait_durable(checksync::checkpoint());
  show("");
}
