// Regression shape: whole-number and special floating-point values (0.0,
// -0.0, 1.0, NaNs with payloads, +-Inf, denormals, extremes) in double and
// float fields, arrays, roots, std::vector<double>, std::vector<float> and
// std::map<std::string, double>; they must survive every path, compaction
// (which re-encodes the merged objects) included, bit for bit.
#include "../matrix.h"

#include <map>
#include <string>
#include <vector>

struct [[checksync::persistent]] Sample {
  double d;
  float f;
  double arr[4];
  float farr[2];
  std::vector<double> series;
  std::vector<float> fseries;
  std::map<std::string, double> named;
  Sample *next;
};

[[checksync::root]] Sample *samples = nullptr;
[[checksync::root]] double root_d = 0.0;
[[checksync::root]] float root_f = 0.0f;
[[checksync::root]] double root_arr[3] = {};
[[checksync::root]] std::vector<double> root_series;
[[checksync::root]] std::map<std::string, double> root_named;

namespace {
void fill(Sample *s, mx::Rng &rng) {
  s->d = rng.special_double();
  s->f = rng.special_float();
  for (auto &x : s->arr)
    x = rng.special_double();
  for (auto &x : s->farr)
    x = rng.special_float();
  for (int i = int(rng.below(12)); i > 0; --i)
    s->series.push_back(rng.special_double());
  for (int i = int(rng.below(6)); i > 0; --i)
    s->fseries.push_back(rng.special_float());
  for (int i = int(rng.below(5)); i > 0; --i)
    s->named["k" + std::to_string(rng.below(10))] = rng.special_double();
}
} // namespace

void mx_round(std::uint64_t, std::uint64_t round, mx::Rng &rng) {
  // New samples; old ones stay untouched (compaction rewrites them).
  for (int i = round == 1 ? 8 : int(rng.below(3)); i > 0; --i) {
    Sample *s = new Sample{};
    fill(s, rng);
    s->next = samples;
    samples = s;
  }
  std::vector<Sample *> all;
  for (Sample *s = samples; s; s = s->next)
    all.push_back(s);
  // Edits of a few old ones: scalars, one element, a whole container.
  for (int i = int(rng.below(3)); i > 0; --i) {
    Sample *s = all[rng.below(all.size())];
    switch (rng.below(5)) {
    case 0: s->d = rng.special_double(); break;
    case 1: s->f = rng.special_float(); break;
    case 2: s->arr[rng.below(4)] = rng.special_double(); break;
    case 3: if (!s->series.empty()) s->series[rng.below(s->series.size())] = rng.special_double(); break;
    default: s->named[std::string(1, char('a' + rng.below(3)))] = rng.special_double();
    }
  }
  if (all.size() > 6 && rng.chance(30)) { // unlink and delete the second
    Sample *victim = samples->next;
    samples->next = victim->next;
    delete victim;
  }
  if (rng.chance(50))
    root_d = rng.special_double();
  if (rng.chance(50))
    root_f = rng.special_float();
  root_arr[rng.below(3)] = rng.special_double();
  if (rng.chance(50))
    root_series.push_back(rng.special_double());
  if (rng.chance(50))
    root_named["r" + std::to_string(rng.below(6))] = rng.special_double();
}

void mx_resumed(std::uint64_t, std::uint64_t) {}

void mx_digest(mx::Digest &d) {
  d.f(root_d);
  d.f(root_f);
  for (double x : root_arr)
    d.f(x);
  d.u(root_series.size());
  for (double x : root_series)
    d.f(x);
  d.u(root_named.size());
  for (auto &[k, v] : root_named) {
    d.str(k);
    d.f(v);
  }
  for (const Sample *s = samples; s; s = s->next) {
    d.ref(s);
    d.f(s->d);
    d.f(s->f);
    for (double x : s->arr)
      d.f(x);
    for (float x : s->farr)
      d.f(x);
    d.u(s->series.size());
    for (double x : s->series)
      d.f(x);
    d.u(s->fseries.size());
    for (float x : s->fseries)
      d.f(x);
    d.u(s->named.size());
    for (auto &[k, v] : s->named) {
      d.str(k);
      d.f(v);
    }
  }
  d.ref(nullptr);
}
