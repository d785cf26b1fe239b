/*
 * Power-loss shim for the e2e tests, loaded with LD_PRELOAD into a broker process. A SIGKILL leaves the page cache
 * intact, so it cannot tell a broker that fsyncs from one that does not; a machine that loses power keeps only what
 * was fsynced. This shim lets the test take that away too.
 *
 * For every regular file under CAPSTAN_POWERLOSS_UNDER, each write or truncate first appends an undo record to the
 * journal CAPSTAN_POWERLOSS_JOURNAL (the bytes and size it is about to change), and each successful fsync or
 * fdatasync appends a marker saying which of that file's records it made durable. After SIGKILL, the test undoes,
 * newest first, every record no fsync covered (PowerLoss.java): the files then hold what a disk would after losing
 * power at that moment. File data only: creating, renaming and deleting files count as durable at once (a real
 * filesystem needs a directory fsync for that; RocksDB does one).
 *
 * Records (little-endian): 'W' dev ino offset length sizeBefore oldLength old-bytes, 'T' dev ino newLength
 * sizeBefore oldLength old-bytes, 'S' dev ino covered, 'A' covered, 'D' dev ino (the file's last name is gone:
 * unlinked or renamed over, so a later file may reuse its inode number and none of its records apply any more). A marker covers the records that start before
 * journal offset `covered` (taken when the fsync began: every write journaled by then has reached the page cache).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fdpath.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t journal_once = PTHREAD_ONCE_INIT;
static int journal = -1;

typedef ssize_t (*write_at_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);
typedef ssize_t (*pwritev_fn)(int, const struct iovec *, int, off_t);
typedef int (*truncate_fn)(int, off_t);
typedef int (*fd_fn)(int);
typedef void (*void_fn)(void);
typedef int (*unlink_fn)(const char *);
typedef int (*rename_fn)(const char *, const char *);
typedef int (*renameat_fn)(int, const char *, int, const char *);
typedef int (*unlinkat_fn)(int, const char *, int);
typedef int (*renameat2_fn)(int, const char *, int, const char *, unsigned int);

#define REAL(name, type) static type real_##name; if (real_##name == NULL) real_##name = (type) dlsym(RTLD_NEXT, #name)

static ssize_t (*real_write_fn)(int, const void *, size_t);
static ssize_t (*real_pread_fn)(int, void *, size_t, off_t);

static void init_real(void) {
    if (real_write_fn == NULL) {
        real_write_fn = (ssize_t (*)(int, const void *, size_t)) dlsym(RTLD_NEXT, "write");
        real_pread_fn = (ssize_t (*)(int, void *, size_t, off_t)) dlsym(RTLD_NEXT, "pread");
    }
}

static void open_journal(void) {
    const char *path = getenv("CAPSTAN_POWERLOSS_JOURNAL");
    if (path != NULL) {
        journal = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (journal < 0) {
            fprintf(stderr, "powerloss shim: cannot open journal %s: %s\n", path, strerror(errno));
            abort();
        }
    }
}

/* The journal's fd, opened on first use (O_APPEND: records of a restarted process follow the earlier ones). */
static int journal_fd(void) {
    pthread_once(&journal_once, open_journal);
    return journal;
}

/* A regular file under the watched directory (its stat in *st). */
static int tracked(int fd, struct stat *st) {
    const char *under = getenv("CAPSTAN_POWERLOSS_UNDER");
    if (under == NULL || fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        return 0;
    }
    char path[PATH_MAX];
    return fd_path(fd, path, sizeof path) && strncmp(path, under, strlen(under)) == 0 && journal_fd() >= 0;
}

static void emit(const void *bytes, size_t length) {
    const char *p = bytes;
    while (length > 0) {
        ssize_t n = real_write_fn(journal, p, length);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            fprintf(stderr, "powerloss shim: cannot write the journal: %s\n", strerror(errno));
            abort();
        }
        p += n;
        length -= (size_t) n;
    }
}

static void emit_u64(uint64_t value) {
    emit(&value, sizeof value);
}

/*
 * Appends the bytes [from, to) of the file as they are now (the part about to be overwritten or cut), read through a
 * read-only descriptor of the same file: the writer's own may be write-only.
 */
static void emit_old(int fd, uint64_t from, uint64_t to) {
    uint64_t length = to > from ? to - from : 0;
    emit_u64(length);
    if (length == 0) {
        return;
    }
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    int reader = open(link, O_RDONLY | O_CLOEXEC);
    if (reader < 0) {
        fprintf(stderr, "powerloss shim: cannot reopen fd %d to read what a write replaces: %s\n", fd, strerror(errno));
        abort();
    }
    char buffer[65536];
    while (length > 0) {
        size_t chunk = length < sizeof buffer ? (size_t) length : sizeof buffer;
        ssize_t n = real_pread_fn(reader, buffer, chunk, (off_t) from);
        if (n <= 0) {
            fprintf(stderr, "powerloss shim: cannot read the bytes a write replaces: %s\n", n < 0 ? strerror(errno) : "end of file");
            abort();
        }
        emit(buffer, (size_t) n);
        from += (uint64_t) n;
        length -= (uint64_t) n;
    }
    close(reader);
}

/* Undo record of a write of `length` bytes at `offset` (-1: the fd's own position, or the end with O_APPEND). */
static void journal_write(int fd, const struct stat *st, int64_t offset, uint64_t length) {
    if (offset < 0) {
        int flags = fcntl(fd, F_GETFL);
        offset = (flags & O_APPEND) ? st->st_size : lseek(fd, 0, SEEK_CUR);
    }
    uint64_t size = (uint64_t) st->st_size;
    uint64_t end = (uint64_t) offset + length;
    emit("W", 1);
    emit_u64((uint64_t) st->st_dev);
    emit_u64((uint64_t) st->st_ino);
    emit_u64((uint64_t) offset);
    emit_u64(length);
    emit_u64(size);
    emit_old(fd, (uint64_t) offset < size ? (uint64_t) offset : size, end < size ? end : size);
}

ssize_t write(int fd, const void *buf, size_t count) {
    init_real();
    struct stat st;
    if (!tracked(fd, &st)) {
        return real_write_fn(fd, buf, count);
    }
    pthread_mutex_lock(&lock);
    journal_write(fd, &st, -1, count);
    ssize_t n = real_write_fn(fd, buf, count);
    pthread_mutex_unlock(&lock);
    return n;
}

static ssize_t positioned(ssize_t (*real)(int, const void *, size_t, off_t), int fd, const void *buf, size_t count, off_t offset) {
    struct stat st;
    if (!tracked(fd, &st)) {
        return real(fd, buf, count, offset);
    }
    pthread_mutex_lock(&lock);
    journal_write(fd, &st, offset, count);
    ssize_t n = real(fd, buf, count, offset);
    pthread_mutex_unlock(&lock);
    return n;
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset) {
    init_real();
    REAL(pwrite, write_at_fn);
    return positioned(real_pwrite, fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off_t offset) {
    init_real();
    REAL(pwrite64, write_at_fn);
    return positioned(real_pwrite64, fd, buf, count, offset);
}

static uint64_t total(const struct iovec *iov, int iovcnt) {
    uint64_t sum = 0;
    for (int i = 0; i < iovcnt; i++) {
        sum += iov[i].iov_len;
    }
    return sum;
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt) {
    init_real();
    REAL(writev, writev_fn);
    struct stat st;
    if (!tracked(fd, &st)) {
        return real_writev(fd, iov, iovcnt);
    }
    pthread_mutex_lock(&lock);
    journal_write(fd, &st, -1, total(iov, iovcnt));
    ssize_t n = real_writev(fd, iov, iovcnt);
    pthread_mutex_unlock(&lock);
    return n;
}

ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t offset) {
    init_real();
    REAL(pwritev, pwritev_fn);
    struct stat st;
    if (!tracked(fd, &st)) {
        return real_pwritev(fd, iov, iovcnt, offset);
    }
    pthread_mutex_lock(&lock);
    journal_write(fd, &st, offset, total(iov, iovcnt));
    ssize_t n = real_pwritev(fd, iov, iovcnt, offset);
    pthread_mutex_unlock(&lock);
    return n;
}

static int truncated(truncate_fn real, int fd, off_t length) {
    struct stat st;
    if (!tracked(fd, &st)) {
        return real(fd, length);
    }
    pthread_mutex_lock(&lock);
    emit("T", 1);
    emit_u64((uint64_t) st.st_dev);
    emit_u64((uint64_t) st.st_ino);
    emit_u64((uint64_t) length);
    emit_u64((uint64_t) st.st_size);
    emit_old(fd, (uint64_t) length, (uint64_t) st.st_size);
    int r = real(fd, length);
    pthread_mutex_unlock(&lock);
    return r;
}

int ftruncate(int fd, off_t length) {
    init_real();
    REAL(ftruncate, truncate_fn);
    return truncated(real_ftruncate, fd, length);
}

int ftruncate64(int fd, off_t length) {
    init_real();
    REAL(ftruncate64, truncate_fn);
    return truncated(real_ftruncate64, fd, length);
}

/* Where the journal ends now: every record before it describes a write that has reached the page cache. */
static uint64_t journal_end(void) {
    struct stat st;
    pthread_mutex_lock(&lock);
    uint64_t end = fstat(journal, &st) == 0 ? (uint64_t) st.st_size : 0;
    pthread_mutex_unlock(&lock);
    return end;
}

static int synced(fd_fn real, int fd) {
    struct stat st;
    if (!tracked(fd, &st)) {
        return real(fd);
    }
    uint64_t covered = journal_end();
    int r = real(fd);
    if (r == 0) {
        pthread_mutex_lock(&lock);
        emit("S", 1);
        emit_u64((uint64_t) st.st_dev);
        emit_u64((uint64_t) st.st_ino);
        emit_u64(covered);
        pthread_mutex_unlock(&lock);
    }
    return r;
}

int fsync(int fd) {
    init_real();
    REAL(fsync, fd_fn);
    return synced(real_fsync, fd);
}

int fdatasync(int fd) {
    init_real();
    REAL(fdatasync, fd_fn);
    return synced(real_fdatasync, fd);
}

static void all_synced(uint64_t covered) {
    if (journal_fd() < 0) {
        return;
    }
    pthread_mutex_lock(&lock);
    emit("A", 1);
    emit_u64(covered);
    pthread_mutex_unlock(&lock);
}

void sync(void) {
    init_real();
    REAL(sync, void_fn);
    uint64_t covered = journal_fd() < 0 ? 0 : journal_end();
    real_sync();
    all_synced(covered);
}

int syncfs(int fd) {
    init_real();
    REAL(syncfs, fd_fn);
    uint64_t covered = journal_fd() < 0 ? 0 : journal_end();
    int r = real_syncfs(fd);
    if (r == 0) {
        all_synced(covered);
    }
    return r;
}

/* Before a name goes: if it is the last name of a watched file, its inode number is free for reuse from now on. */
static void forgetting(int dirfd, const char *path) {
    const char *under = getenv("CAPSTAN_POWERLOSS_UNDER");
    if (under == NULL) {
        return;
    }
    int fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        return;
    }
    struct stat st;
    if (tracked(fd, &st) && st.st_nlink <= 1) {
        pthread_mutex_lock(&lock);
        emit("D", 1);
        emit_u64((uint64_t) st.st_dev);
        emit_u64((uint64_t) st.st_ino);
        pthread_mutex_unlock(&lock);
    }
    close(fd);
}

int unlink(const char *path) {
    init_real();
    REAL(unlink, unlink_fn);
    forgetting(AT_FDCWD, path);
    return real_unlink(path);
}

int unlinkat(int dirfd, const char *path, int flags) {
    init_real();
    REAL(unlinkat, unlinkat_fn);
    if (!(flags & AT_REMOVEDIR)) {
        forgetting(dirfd, path);
    }
    return real_unlinkat(dirfd, path, flags);
}

int rename(const char *from, const char *to) {
    init_real();
    REAL(rename, rename_fn);
    forgetting(AT_FDCWD, to);
    return real_rename(from, to);
}

int renameat(int fromdir, const char *from, int todir, const char *to) {
    init_real();
    REAL(renameat, renameat_fn);
    forgetting(todir, to);
    return real_renameat(fromdir, from, todir, to);
}

int renameat2(int fromdir, const char *from, int todir, const char *to, unsigned int flags) {
    init_real();
    REAL(renameat2, renameat2_fn);
    forgetting(todir, to);
    return real_renameat2(fromdir, from, todir, to, flags);
}
