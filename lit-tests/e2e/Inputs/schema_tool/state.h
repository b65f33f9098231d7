// A project's persistent state, shared by its translation units.
#include <checksync/checksync.h>

#include <cstdint>
#include <string>
#include <vector>

struct [[checksync::persistent]] Item {
  std::int64_t id;
  std::string name;
  [[checksync::renamed_from("qty")]] std::int32_t count;
  Item *next;
};
extern Item *items;
