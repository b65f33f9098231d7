// Marking stamps are 32-bit and compared for equality: when the counter
// wraps, a cold object's old mark must not equal a new stamp, or its next
// write is taken as already collected and lost. The runtime resets every mark
// at the wrap; CHECKSYNC_TEST_STAMP_PERIOD makes the counter wrap every few
// stamps so this runs in a test (without the reset, period 4 lost 6 of 32
// increments).
//
// RUN: %cs_cxx %s -o %t %cs_ldflags
// RUN: for period in 3 4 5 6 7; do rm -rf %t.d; \
// RUN:   env CHECKSYNC_TEST_STAMP_PERIOD=$period CHECKSYNC_DIR=%t.d %t > %t.out || exit 1; \
// RUN:   %csrt resume --from %t.d -- %t >> %t.out || exit 1; \
// RUN:   test "$(sed -n 's/^sum //p' %t.out)" = "$(sed -n 's/^resumed sum //p' %t.out)" \
// RUN:     || { echo "period $period:"; cat %t.out; exit 1; }; \
// RUN: done
#include <checksync/checksync.h>

#include <cstdio>

struct [[checksync::persistent]] Cell {
  long v;
  Cell *next;
};
[[checksync::root]] Cell *head = nullptr;

int main() {
  checksync::init();
  if (checksync::resumed()) {
    long s = 0;
    for (Cell *c = head; c; c = c->next)
      s += c->v;
    std::printf("resumed sum %ld\n", s);
    return 0;
  }
  for (int i = 0; i < 8; ++i)
    head = new Cell{0, head};
  long sum = 0;
  for (int r = 1; r <= 12; ++r) { // each cell is written every third round
    int k = 0;
    for (Cell *c = head; c; c = c->next, ++k)
      if ((r + k) % 3 == 0) {
        c->v += 1;
        ++sum;
      }
    if (!checksync::wait_durable(checksync::checkpoint()))
      return 1;
  }
  std::printf("sum %ld\n", sum);
}
