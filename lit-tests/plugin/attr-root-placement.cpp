// [[checksync::root]] applies to namespace-scope variables only.
// RUN: %clangxx -std=c++20 -fsyntax-only -fplugin=%plugin -Xclang -verify %s

struct [[checksync::persistent]] Node { int x; Node *next; };

[[checksync::root]] Node *head;
namespace app { [[checksync::root]] Node *tail; }
[[checksync::root]] static Node *internal_root;

[[checksync::root]] void fn(); // expected-error {{'checksync::root' can only be applied to a namespace-scope variable}}
void g([[checksync::root]] Node *p); // expected-error {{'checksync::root' can only be applied to a namespace-scope variable}}
void h() {
  [[checksync::root]] Node *local; // expected-error {{'checksync::root' can only be applied to a namespace-scope variable; 'local' is a local variable}}
  [[checksync::root]] static Node *slocal; // expected-error {{'slocal' is a local variable: declare it at namespace scope}}
}
struct Holder {
  [[checksync::root]] static Node *member; // expected-error {{'member' is a static data member: declare a namespace-scope variable instead}}
  [[checksync::root]] Node *field; // expected-error {{'checksync::root' can only be applied to a namespace-scope variable}}
};
[[checksync::root]] thread_local Node *tls; // expected-error {{'tls' is thread_local}}
Node n;
[[checksync::root]] Node &ref = n; // expected-error {{'ref' is a reference, which cannot be re-bound on resume: use a pointer}}
[[checksync::root]] const int constant = 3; // expected-error {{root 'constant' is const, but resume must write it; remove const}}
[[checksync::persistent]] struct [[checksync::root]] Wrong { int x; }; // expected-error {{'checksync::root' can only be applied to a namespace-scope variable}} expected-error {{misplaced}}
