/* Shared by the fault shims: where an open file descriptor points. */
#ifndef CAPSTAN_FDPATH_H
#define CAPSTAN_FDPATH_H

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The path fd names, copied into `path` (size bytes); 0 if it cannot be read. */
static int fd_path(int fd, char *path, size_t size) {
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, size - 1);
    if (n < 0) {
        return 0;
    }
    path[n] = '\0';
    return 1;
}

#endif
