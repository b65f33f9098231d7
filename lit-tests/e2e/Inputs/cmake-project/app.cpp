#include <checksync/checksync.h>

#include <cstdio>

struct [[checksync::persistent]] Item {
  int value;
  Item *next;
};
[[checksync::root]] Item *items = nullptr;

int main() {
  checksync::init();
  if (checksync::resumed()) {
    int n = 0;
    for (Item *i = items; i; i = i->next)
      n += i->value;
    std::printf("resumed sum=%d\n", n);
    return 0;
  }
  for (int i = 1; i <= 10; ++i)
    items = new Item{i, items};
  checksync::wait_durable(checksync::checkpoint());
  std::puts("checkpointed");
}
