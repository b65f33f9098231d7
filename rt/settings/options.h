// options.h - the runtime's settings, all from CHECKSYNC_* environment
// variables, in one validated table: name, type, range, default and meaning.
// A value that does not parse or is out of range is a clear startup error
// (exit 3), never a silent 0. `checksync-rt options` prints the table.
#ifndef CHECKSYNC_RT_OPTIONS_H
#define CHECKSYNC_RT_OPTIONS_H

#include <cstdint>
#include <string>
#include <vector>

namespace checksync::detail::options {

enum class Kind { Flag, Uint, Real, Text };

struct Spec {
  const char *name;
  Kind kind;
  double min, max;  // Uint and Real: the accepted range
  const char *dflt; // as text; "" = unset
  const char *help;
  bool test = false; // a test hook, not for production
  const char *choices = nullptr; // Text: the accepted words, space-separated
};

const std::vector<Spec> &all();

// The variable's value, or its default. A bad value prints
// "checksync: NAME=VALUE: expected ..." and exits 3 (it may be read before
// main, from the allocator, where an exception could not be handled).
std::uint64_t uint(const char *name);
double real(const char *name);
bool flag(const char *name);
std::string text(const char *name); // "" when unset
bool is_set(const char *name);      // set and not empty

// Checks every variable in the table, so a bad value fails at init() even
// if it would be read only later (exit 3); warns about CHECKSYNC_* names
// that look like a misspelt setting (a typo would otherwise be ignored).
void check_environment();

// The table, for `checksync-rt options`.
std::string describe(bool with_test_hooks);

} // namespace checksync::detail::options

#endif
