// Without the plugin the checksync:: attributes are unknown; a build with
// -Werror=unknown-attributes (what checksync-config --cxxflags adds) fails
// instead of silently losing state.
// RUN: not %clangxx -std=c++20 -fsyntax-only -Werror=unknown-attributes %s 2>&1 | FileCheck %s
// CHECK: error: unknown attribute 'persistent' ignored
// CHECK: error: unknown attribute 'root' ignored

struct [[checksync::persistent]] Node {
  int value;
};
[[checksync::root]] Node *head;
