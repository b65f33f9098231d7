// Compiled without the plugin in the test's database: its writes would be lost.
#include "state.h"
void rename_first(const char *n) { items->name = n; }
