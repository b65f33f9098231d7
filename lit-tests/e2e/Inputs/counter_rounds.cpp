// N rounds, each writing one field of one object and checkpointing.
#include <checksync/checksync.h>

#include <cstdio>
#include <cstdlib>

struct [[checksync::persistent]] Counter {
  long value;
  long pad[32];
};
[[checksync::root]] Counter *counter = nullptr;

int main(int argc, char **argv) {
  checksync::init();
  if (checksync::resumed()) {
    std::printf("resumed value=%ld\n", counter->value);
    return 0;
  }
  int rounds = argc > 1 ? std::atoi(argv[1]) : 5;
  counter = new Counter{};
  for (int r = 1; r <= rounds; ++r) {
    counter->value = r;
    auto s = checksync::checkpoint();
    checksync::wait_durable(s);
    auto st = checksync::last_checkpoint_stats();
    std::printf("epoch %llu %s objects=%llu\n", (unsigned long long)st.epoch,
                st.full ? "full" : "delta", (unsigned long long)st.objects);
  }
}
