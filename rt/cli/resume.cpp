// resume.cpp - `checksync-rt resume`: validates the checkpoint, then execs the
// program with CHECKSYNC_RESUME (what to restore) and CHECKSYNC_DIR (where to
// go on checkpointing) set. The program's init() does the restoring.
#include "commands.h"

#include "store/chain.h"
#include "format/format.h"
#include "store/store.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <unistd.h>

namespace checksync::cli {

int run_resume(const ResumeOptions &opts) {
  using namespace checksync::detail;
  std::string file = opts.from;
  try {
    // Fail here, clearly, for a missing/torn/corrupt base; the program's init()
    // decodes and validates the rest (schema, values) before using anything.
    std::string note;
    check_chain(opts.from, &note);
    if (!note.empty())
      std::fprintf(stderr, "checksync-rt resume: %s\n", note.c_str());
  } catch (const Error &e) {
    std::fprintf(stderr, "checksync-rt resume: %s\n", e.what());
    return 2;
  }
  std::error_code ec;
  std::string abs = std::filesystem::absolute(file, ec).string();
  ::setenv("CHECKSYNC_RESUME", abs.c_str(), 1);
  if (opts.allow_lossy)
    ::setenv("CHECKSYNC_ALLOW_LOSSY", "1", 1);
  if (!opts.dir.empty())
    ::setenv("CHECKSYNC_DIR", opts.dir.c_str(), 1);
  else if (!std::getenv("CHECKSYNC_DIR") && std::filesystem::is_directory(opts.from, ec))
    ::setenv("CHECKSYNC_DIR", opts.from.c_str(), 1);

  std::vector<char *> argv;
  for (auto &a : opts.command)
    argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  std::fprintf(stderr, "checksync-rt resume: cannot run %s: %s\n", argv[0],
               std::strerror(errno));
  return 127;
}

} // namespace checksync::cli
