/*
 * Disk-fault shim for the e2e tests, loaded with LD_PRELOAD into a broker process: while the file named by
 * CAPSTAN_FAULT_FLAG exists, fsync and fdatasync of files under CAPSTAN_FAULT_UNDER (except paths containing
 * CAPSTAN_FAULT_SKIP) fail with EIO, as a dying disk's would. Everything else goes to the real libc calls.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdpath.h"

static int should_fail(int fd) {
    const char *flag = getenv("CAPSTAN_FAULT_FLAG");
    if (flag == NULL || access(flag, F_OK) != 0) {
        return 0;
    }
    char path[PATH_MAX];
    if (!fd_path(fd, path, sizeof path)) {
        return 0;
    }
    const char *under = getenv("CAPSTAN_FAULT_UNDER");
    const char *skip = getenv("CAPSTAN_FAULT_SKIP");
    if (under != NULL && strncmp(path, under, strlen(under)) != 0) {
        return 0;
    }
    return skip == NULL || *skip == '\0' || strstr(path, skip) == NULL;
}

int fsync(int fd) {
    static int (*real)(int);
    if (real == NULL) {
        real = (int (*)(int)) dlsym(RTLD_NEXT, "fsync");
    }
    if (should_fail(fd)) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (real == NULL) {
        real = (int (*)(int)) dlsym(RTLD_NEXT, "fdatasync");
    }
    if (should_fail(fd)) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}
