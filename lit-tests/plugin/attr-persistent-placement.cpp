// [[checksync::persistent]] applies to classes and structs only.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin -Xclang -verify %s

struct [[checksync::persistent]] Ok { int x; };
class [[checksync::persistent]] AlsoOk { int x; };
struct [[checksync::persistent]] Forward;

union [[checksync::persistent]] U { int a; float b; }; // expected-error {{'checksync::persistent' cannot be applied to union 'U': unions are not supported; use a struct}}
enum class [[checksync::persistent]] E { A }; // expected-error {{'checksync::persistent' can only be applied to a class or struct definition}}
[[checksync::persistent]] int var; // expected-error {{'checksync::persistent' can only be applied to a class or struct definition}}
[[checksync::persistent]] void fn(); // expected-error {{'checksync::persistent' can only be applied to a class or struct definition}}
struct S {
  [[checksync::persistent]] int field; // expected-error {{'checksync::persistent' can only be applied to a class or struct definition}}
};
