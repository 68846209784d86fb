/* commands: the dllab sub-commands. Each returns an exit code: 0 ok, 1 failure, 2 usage. */
#ifndef DL_COMMANDS_H
#define DL_COMMANDS_H

enum { DL_EXIT_OK = 0, DL_EXIT_FAIL = 1, DL_EXIT_USAGE = 2 };

#define X(name, fn, summary) int fn(int argc, char **argv);
#include "src/commands.def"
#undef X

#endif
