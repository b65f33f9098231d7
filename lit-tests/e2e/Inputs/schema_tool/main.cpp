#include "state.h"
[[checksync::root]] Item *items = nullptr;
int main() {
  checksync::init();
  items = new Item{1, "one", 2, nullptr};
}
