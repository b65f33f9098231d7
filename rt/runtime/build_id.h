// build_id.h - which build of the program is running, for the checkpoints it
// writes (`inspect` shows it per epoch: a deploy that replaces ./app in place
// keeps the path, not the build).
#ifndef CHECKSYNC_RT_BUILD_ID_H
#define CHECKSYNC_RT_BUILD_ID_H

#include <string>

namespace checksync::detail {

// The first 16 hex digits of the main executable's GNU build-id (the linker's
// --build-id note, on by default for Debian's toolchains), or "" if it has none.
const std::string &build_id();

// "argv[0] (build <id>)", or argv[0] alone when there is no build-id.
std::string program_and_build();

} // namespace checksync::detail

#endif
