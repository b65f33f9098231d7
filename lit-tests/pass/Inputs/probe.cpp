#include <checksync/checksync.h>
int main() { checksync::init(); }
