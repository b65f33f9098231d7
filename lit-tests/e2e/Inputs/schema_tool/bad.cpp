#include <checksync/checksync.h>
#include <string_view>
struct [[checksync::persistent]] View {
  std::string_view text;
};
