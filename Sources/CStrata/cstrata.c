#ifdef __linux__
#define _GNU_SOURCE
#include "cstrata.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <linux/openat2.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

const int strata_at_symlink_nofollow = AT_SYMLINK_NOFOLLOW;
const int strata_at_empty_path = AT_EMPTY_PATH;
const int strata_at_removedir = AT_REMOVEDIR;
const unsigned long long strata_resolve_in_root = RESOLVE_IN_ROOT;
const unsigned int strata_rename_noreplace = RENAME_NOREPLACE;
const unsigned long strata_ms_bind = MS_BIND, strata_ms_rec = MS_REC, strata_ms_rdonly = MS_RDONLY,
    strata_ms_remount = MS_REMOUNT;
const unsigned long strata_ms_nodev = MS_NODEV, strata_ms_nosuid = MS_NOSUID, strata_ms_noexec = MS_NOEXEC,
    strata_ms_noatime = MS_NOATIME;
const int strata_mnt_detach = MNT_DETACH;
const unsigned long long strata_resolve_no_magiclinks = RESOLVE_NO_MAGICLINKS;
const unsigned long long strata_resolve_no_symlinks = RESOLVE_NO_SYMLINKS;

#define RET(expr) do { long r__ = (long)(expr); return r__ < 0 ? -errno : r__; } while (0)

int strata_statx(int dirfd, const char *name, int flags, strata_stat *out) {
    struct statx sx;
    unsigned int mask = STATX_TYPE | STATX_MODE | STATX_NLINK | STATX_UID | STATX_GID | STATX_ATIME |
                        STATX_MTIME | STATX_CTIME | STATX_INO | STATX_SIZE | STATX_BLOCKS;
    if (statx(dirfd, name, flags | AT_STATX_SYNC_AS_STAT, mask, &sx) < 0) return -errno;
    out->mask = sx.stx_mask;
    out->mode = sx.stx_mode;
    out->nlink = sx.stx_nlink;
    out->uid = sx.stx_uid;
    out->gid = sx.stx_gid;
    out->ino = sx.stx_ino;
    out->size = sx.stx_size;
    out->blocks = sx.stx_blocks;
    out->atime_sec = sx.stx_atime.tv_sec;
    out->atime_nsec = sx.stx_atime.tv_nsec;
    out->mtime_sec = sx.stx_mtime.tv_sec;
    out->mtime_nsec = sx.stx_mtime.tv_nsec;
    out->ctime_sec = sx.stx_ctime.tv_sec;
    out->ctime_nsec = sx.stx_ctime.tv_nsec;
    out->rdev_major = sx.stx_rdev_major;
    out->rdev_minor = sx.stx_rdev_minor;
    out->dev_major = sx.stx_dev_major;
    out->dev_minor = sx.stx_dev_minor;
    return 0;
}

int strata_openat(int dirfd, const char *name, int flags, unsigned int mode) {
    RET(openat(dirfd, name, flags | O_CLOEXEC, mode));
}

int strata_openat2(int dirfd, const char *path, int flags, unsigned int mode, unsigned long long resolve) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (unsigned long long)(flags | O_CLOEXEC);
    how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
    how.resolve = resolve;
    RET(syscall(SYS_openat2, dirfd, path, &how, sizeof how));
}

long strata_getdents64(int fd, void *buf, size_t size) { RET(syscall(SYS_getdents64, fd, buf, size)); }
int strata_mkdirat(int dirfd, const char *name, unsigned int mode) { RET(mkdirat(dirfd, name, mode)); }
int strata_mknodat(int dirfd, const char *name, unsigned int mode, uint32_t major, uint32_t minor) {
    RET(mknodat(dirfd, name, mode, makedev(major, minor)));
}
int strata_symlinkat(const char *target, int dirfd, const char *name) { RET(symlinkat(target, dirfd, name)); }
int strata_linkat(int olddirfd, const char *oldname, int newdirfd, const char *newname, int flags) {
    RET(linkat(olddirfd, oldname, newdirfd, newname, flags));
}
int strata_unlinkat(int dirfd, const char *name, int flags) { RET(unlinkat(dirfd, name, flags)); }
int strata_mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data) {
    RET(mount(source, target, fstype, flags, data));
}

int strata_umount(const char *target, int flags) {
    RET(umount2(target, flags));
}

int strata_ficlone(int dst, int src) {
    RET(ioctl(dst, FICLONE, src));
}

long strata_copy_file_range(int src, int dst, size_t size) {
    RET(copy_file_range(src, NULL, dst, NULL, size, 0));
}

long strata_copy_file_range_at(int src, int64_t src_offset, int dst, int64_t dst_offset, size_t size) {
    loff_t in = src_offset, out = dst_offset;
    RET(copy_file_range(src, &in, dst, &out, size, 0));
}

int strata_flock(int fd, int exclusive, int wait) {
    RET(flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB)));
}

int strata_funlock(int fd) {
    RET(flock(fd, LOCK_UN));
}

int strata_renameat2(int olddirfd, const char *oldname, int newdirfd, const char *newname, unsigned int flags) {
    RET(syscall(SYS_renameat2, olddirfd, oldname, newdirfd, newname, flags));
}
long strata_readlinkat(int dirfd, const char *name, char *buf, size_t size) { RET(readlinkat(dirfd, name, buf, size)); }
int strata_fchownat(int dirfd, const char *name, uint32_t uid, uint32_t gid, int flags) {
    RET(fchownat(dirfd, name, uid, gid, flags));
}
int strata_fchmodat(int dirfd, const char *name, unsigned int mode) { RET(fchmodat(dirfd, name, mode, 0)); }
int strata_fchmod(int fd, unsigned int mode) { RET(fchmod(fd, mode)); }
int strata_fchown(int fd, uint32_t uid, uint32_t gid) { RET(fchown(fd, uid, gid)); }
int strata_utimensat(int dirfd, const char *name, int64_t asec, long ansec, int64_t msec, long mnsec, int flags) {
    struct timespec ts[2] = {{.tv_sec = asec, .tv_nsec = ansec}, {.tv_sec = msec, .tv_nsec = mnsec}};
    RET(utimensat(dirfd, name, ts, flags));
}
int strata_futimens(int fd, int64_t asec, long ansec, int64_t msec, long mnsec) {
    struct timespec ts[2] = {{.tv_sec = asec, .tv_nsec = ansec}, {.tv_sec = msec, .tv_nsec = mnsec}};
    RET(futimens(fd, ts));
}
long strata_read(int fd, void *buf, size_t size) { RET(read(fd, buf, size)); }
long strata_pread(int fd, void *buf, size_t size, int64_t offset) { RET(pread(fd, buf, size, offset)); }
long strata_write(int fd, const void *buf, size_t size) { RET(write(fd, buf, size)); }
long strata_pwrite(int fd, const void *buf, size_t size, int64_t offset) { RET(pwrite(fd, buf, size, offset)); }
int strata_ftruncate(int fd, int64_t size) { RET(ftruncate(fd, size)); }
int64_t strata_lseek(int fd, int64_t offset, int whence) {
    off_t r = lseek(fd, offset, whence);
    return r < 0 ? -errno : r;
}
int strata_punch_hole(int fd, int64_t offset, int64_t length) {
    RET(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length));
}
int strata_close(int fd) { RET(close(fd)); }
int strata_fsync(int fd) { RET(fsync(fd)); }

static int proc_path(char *out, size_t size, int dirfd, const char *name) {
    int n = snprintf(out, size, "/proc/self/fd/%d/%s", dirfd, name);
    return (n < 0 || (size_t)n >= size) ? -ENAMETOOLONG : 0;
}

#ifndef SYS_getxattrat
#define SYS_getxattrat 464 /* Linux 6.13, the same number on every architecture */
#endif
struct strata_xattr_args {
    uint64_t value;
    uint32_t size;
    uint32_t flags;
};
static int has_getxattrat = 1;

long strata_getxattrat(int dirfd, const char *name, const char *key, void *buf, size_t size) {
    if (__atomic_load_n(&has_getxattrat, __ATOMIC_RELAXED)) {
        struct strata_xattr_args args = {.value = (uint64_t)(uintptr_t)buf, .size = (uint32_t)size, .flags = 0};
        long r = syscall(SYS_getxattrat, dirfd, name, AT_SYMLINK_NOFOLLOW, key, &args, sizeof args);
        if (r >= 0) return r;
        if (errno == ENOSYS) __atomic_store_n(&has_getxattrat, 0, __ATOMIC_RELAXED);
        else if (errno != EPERM) return -errno; /* EPERM may be a seccomp filter: ask again below */
    }
    char path[4200];
    int e = proc_path(path, sizeof path, dirfd, name);
    if (e) return e;
    RET(lgetxattr(path, key, buf, size));
}
long strata_listxattrat(int dirfd, const char *name, char *buf, size_t size) {
    char path[4200];
    int e = proc_path(path, sizeof path, dirfd, name);
    if (e) return e;
    RET(llistxattr(path, buf, size));
}
int strata_setxattrat(int dirfd, const char *name, const char *key, const void *value, size_t size, int flags) {
    char path[4200];
    int e = proc_path(path, sizeof path, dirfd, name);
    if (e) return e;
    RET(lsetxattr(path, key, value, size, flags));
}
int strata_removexattrat(int dirfd, const char *name, const char *key) {
    char path[4200];
    int e = proc_path(path, sizeof path, dirfd, name);
    if (e) return e;
    RET(lremovexattr(path, key));
}
long strata_fgetxattr(int fd, const char *key, void *buf, size_t size) { RET(fgetxattr(fd, key, buf, size)); }
long strata_flistxattr(int fd, char *buf, size_t size) { RET(flistxattr(fd, buf, size)); }
int strata_fsetxattr(int fd, const char *key, const void *value, size_t size, int flags) {
    RET(fsetxattr(fd, key, value, size, flags));
}

int strata_isatty(int fd) { return isatty(fd); }
uint32_t strata_geteuid(void) { return geteuid(); }
int strata_raise_nofile_limit(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) return -errno;
    rl.rlim_cur = rl.rlim_max;
    RET(setrlimit(RLIMIT_NOFILE, &rl));
}

int strata_syncfs(int fd) { RET(syncfs(fd)); }

static int unix_address(const char *path, struct sockaddr_un *a) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof a->sun_path) return -ENAMETOOLONG;
    strcpy(a->sun_path, path);
    return 0;
}

int strata_unix_socket_live(const char *path) {
    struct sockaddr_un a;
    int r = unix_address(path, &a);
    if (r < 0) return r;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    r = connect(fd, (struct sockaddr *)&a, sizeof a);
    int e = errno;
    close(fd);
    if (r == 0) return 1;
    return (e == ECONNREFUSED || e == ENOENT) ? 0 : -e;
}

int strata_unix_listen(const char *path, unsigned int mode, int backlog) {
    struct sockaddr_un a;
    int r = unix_address(path, &a);
    if (r < 0) return r;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || chmod(path, mode) < 0 || listen(fd, backlog) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

int strata_pipe(int fds[2], int size) {
    if (pipe2(fds, O_CLOEXEC) != 0) return -errno;
    if (size > 0) (void)fcntl(fds[1], F_SETPIPE_SZ, size);
    return 0;
}

int strata_spawn(const char *path, char *const argv[], char *const envp[], int in, int out, int err, int fd3) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    sigset_t all, none;
    int rc = posix_spawn_file_actions_init(&actions);
    if (rc != 0) return -rc;
    rc = posix_spawnattr_init(&attr);
    if (rc != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return -rc;
    }
    sigfillset(&all);
    sigemptyset(&none);
    // dup2 onto 0-3 clears close-on-exec there; everything from 4 up is closed.
    posix_spawn_file_actions_adddup2(&actions, in, 0);
    posix_spawn_file_actions_adddup2(&actions, out, 1);
    posix_spawn_file_actions_adddup2(&actions, err, 2);
    if (fd3 >= 0) posix_spawn_file_actions_adddup2(&actions, fd3, 3);
    posix_spawn_file_actions_addclosefrom_np(&actions, fd3 >= 0 ? 4 : 3);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
    pid_t pid = 0;
    rc = strchr(path, '/') ? posix_spawn(&pid, path, &actions, &attr, argv, envp)
                           : posix_spawnp(&pid, path, &actions, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return rc == 0 ? (int)pid : -rc;
}

int strata_wait_exited(int pid) {
    siginfo_t info;
    while (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) != 0) {
        if (errno != EINTR) return -errno;
    }
    return 0;
}
#endif

int strata_loop_attach(int file, int read_only, int *number) {
    int control = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (control < 0) return -errno;
    for (int attempt = 0; attempt < 32; attempt++) {
        int n = ioctl(control, LOOP_CTL_GET_FREE);
        if (n < 0) {
            int e = errno;
            close(control);
            return -e;
        }
        char path[32];
        snprintf(path, sizeof path, "/dev/loop%d", n);
        int device = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
        if (device < 0) {
            if (errno == ENOENT || errno == ENXIO) continue;  // not made yet, or just removed
            int e = errno;
            close(control);
            return -e;
        }
        struct loop_config config;
        memset(&config, 0, sizeof config);
        config.fd = (unsigned int)file;
        config.info.lo_flags = LO_FLAGS_AUTOCLEAR | (read_only ? LO_FLAGS_READ_ONLY : 0);
        if (ioctl(device, LOOP_CONFIGURE, &config) == 0) {
            close(control);
            *number = n;
            return device;
        }
        int e = errno;
        close(device);
        if (e == EBUSY) continue;  // another process took it between GET_FREE and CONFIGURE
        close(control);
        return -e;
    }
    close(control);
    return -EBUSY;
}
