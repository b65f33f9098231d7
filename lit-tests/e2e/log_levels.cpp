// The runtime's messages: one line each with a UTC timestamp and a level,
// filtered by CHECKSYNC_LOG_LEVEL, and handed to the program's own output when
// it registers one (checksync::set_log_output).
//
// RUN: %cs_cxx %s -o %t %cs_ldflags
// Default level (info): the warning, timestamped and labelled.
// RUN: env -u CHECKSYNC_DIR %t 2> %t.err
// RUN: FileCheck %s --check-prefix=WARN < %t.err
// WARN: {{^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\.[0-9]{3}Z}} checksync: warning: CHECKSYNC_DIR is not set
// Level error: no warning.
// RUN: env -u CHECKSYNC_DIR CHECKSYNC_LOG_LEVEL=error %t 2> %t.quiet
// RUN: test ! -s %t.quiet
// Level debug: every stored checkpoint.
// RUN: rm -rf %t.d && env CHECKSYNC_DIR=%t.d CHECKSYNC_LOG_LEVEL=debug %t 2> %t.debug
// RUN: FileCheck %s --check-prefix=DEBUG < %t.debug
// DEBUG: checksync: debug: checkpoint 1 stored (full, {{[0-9]+}} bytes)
// DEBUG: checksync: debug: checkpoint 2 stored (delta, {{[0-9]+}} bytes)
// A bad level is a startup error.
// RUN: sh -c 'CHECKSYNC_DIR=%t.d CHECKSYNC_LOG_LEVEL=loud %t 2> %t.bad; test $? -eq 3'
// RUN: FileCheck %s --check-prefix=BAD < %t.bad
// BAD: checksync: error: CHECKSYNC_LOG_LEVEL=loud: expected one of: error warning warn info debug
// The program's own output receives the lines (and stderr gets none).
// RUN: env -u CHECKSYNC_DIR CAPTURE=1 %t > %t.out 2> %t.err2
// RUN: test ! -s %t.err2
// RUN: FileCheck %s --check-prefix=CAPTURED < %t.out
// CAPTURED: captured level 1: {{.*}} checksync: warning: CHECKSYNC_DIR is not set
#include <checksync/checksync.h>

#include <cstdio>
#include <cstdlib>

struct [[checksync::persistent]] Cell {
  int value;
};
[[checksync::root]] Cell *cell = nullptr;

static void capture(checksync::log_level level, const char *line, void *arg) {
  std::printf("captured level %d: %s\n", int(level), line);
  ++*static_cast<int *>(arg);
}

int main() {
  static int lines = 0;
  if (std::getenv("CAPTURE"))
    checksync::set_log_output(capture, &lines);
  checksync::init();
  cell = new Cell{1};
  checksync::wait_durable(checksync::checkpoint());
  cell->value = 2;
  checksync::wait_durable(checksync::checkpoint());
  return 0;
}
