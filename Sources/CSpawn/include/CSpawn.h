#ifndef CSPAWN_H
#define CSPAWN_H
#include <spawn.h>

/// glibc's GNU extensions to posix_spawn, which Swift does not import without _GNU_SOURCE.
int cspawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int lowfd);
int cspawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path);
/// POSIX_SPAWN_SETSID: start the child in a session of its own.
short cspawn_flag_setsid(void);

#endif
