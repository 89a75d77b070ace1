#define _GNU_SOURCE
#include "csystem.h"
int csystem_placeholder(void) { return 0; }
