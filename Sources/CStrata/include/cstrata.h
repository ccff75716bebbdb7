#ifndef CSTRATA_H
#define CSTRATA_H
// Thin C shims for Linux calls that Glibc does not expose cleanly to Swift. Every function returns
// its result, or -errno on failure, so that Swift never reads errno across a call boundary.
#ifdef __linux__
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

/// The fields of `struct statx` that Strata uses, flattened into a layout Swift imports directly.
typedef struct strata_stat {
    uint32_t mask;
    uint32_t mode;
    uint32_t nlink;
    uint32_t uid;
    uint32_t gid;
    uint64_t ino;
    uint64_t size;
    uint64_t blocks;
    int64_t atime_sec;
    uint32_t atime_nsec;
    int64_t mtime_sec;
    uint32_t mtime_nsec;
    int64_t ctime_sec;
    uint32_t ctime_nsec;
    uint32_t rdev_major;
    uint32_t rdev_minor;
    uint32_t dev_major;
    uint32_t dev_minor;
} strata_stat;

extern const int strata_at_symlink_nofollow;
extern const int strata_at_empty_path;
extern const int strata_at_removedir;
extern const unsigned long long strata_resolve_in_root;
extern const unsigned long long strata_resolve_no_magiclinks;
extern const unsigned long long strata_resolve_no_symlinks;

int strata_statx(int dirfd, const char *name, int flags, strata_stat *out);
int strata_openat(int dirfd, const char *name, int flags, unsigned int mode);
int strata_openat2(int dirfd, const char *path, int flags, unsigned int mode, unsigned long long resolve);
long strata_getdents64(int fd, void *buf, size_t size);
int strata_mkdirat(int dirfd, const char *name, unsigned int mode);
int strata_mknodat(int dirfd, const char *name, unsigned int mode, uint32_t major, uint32_t minor);
int strata_symlinkat(const char *target, int dirfd, const char *name);
int strata_linkat(int olddirfd, const char *oldname, int newdirfd, const char *newname, int flags);
int strata_unlinkat(int dirfd, const char *name, int flags);
int strata_renameat2(int olddirfd, const char *oldname, int newdirfd, const char *newname, unsigned int flags);
long strata_readlinkat(int dirfd, const char *name, char *buf, size_t size);
int strata_fchownat(int dirfd, const char *name, uint32_t uid, uint32_t gid, int flags);
int strata_fchmodat(int dirfd, const char *name, unsigned int mode);
int strata_fchmod(int fd, unsigned int mode);
int strata_fchown(int fd, uint32_t uid, uint32_t gid);
int strata_utimensat(int dirfd, const char *name, int64_t asec, long ansec, int64_t msec, long mnsec, int flags);
int strata_futimens(int fd, int64_t asec, long ansec, int64_t msec, long mnsec);
long strata_read(int fd, void *buf, size_t size);
long strata_pread(int fd, void *buf, size_t size, int64_t offset);
long strata_write(int fd, const void *buf, size_t size);
long strata_pwrite(int fd, const void *buf, size_t size, int64_t offset);
int strata_ftruncate(int fd, int64_t size);
int64_t strata_lseek(int fd, int64_t offset, int whence);
/// Deallocates `length` bytes at `offset`, keeping the size: they read as zeros (a hole).
int strata_punch_hole(int fd, int64_t offset, int64_t length);
int strata_close(int fd);
int strata_fsync(int fd);
// flock(2): `exclusive` or shared, failing with -EWOULDBLOCK instead of waiting when `wait` is 0.
int strata_flock(int fd, int exclusive, int wait);
int strata_funlock(int fd);
extern const unsigned int strata_rename_noreplace;
// mount(2) and umount2(2).
int strata_mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data);
int strata_umount(const char *target, int flags);
extern const unsigned long strata_ms_bind, strata_ms_rec, strata_ms_rdonly, strata_ms_remount;
extern const unsigned long strata_ms_nodev, strata_ms_nosuid, strata_ms_noexec, strata_ms_noatime;
extern const int strata_mnt_detach;
// ioctl(FICLONE): `dst` shares `src`'s extents (reflink); -EOPNOTSUPP/-EXDEV/-EINVAL where it cannot.
int strata_ficlone(int dst, int src);
// copy_file_range(2) from the current offsets; returns bytes copied, 0 at the end of `src`.
long strata_copy_file_range(int src, int dst, size_t size);
// Attaches the open file `file` to a free loop device (LOOP_CONFIGURE, autoclear: the device is
// released when its last user closes it, a mount included); read-only when asked. Returns the open
// device and its number in *number, or -errno.
int strata_loop_attach(int file, int read_only, int *number);
// copy_file_range(2) between explicit offsets (the files' own offsets stay where they are).
long strata_copy_file_range_at(int src, int64_t src_offset, int dst, int64_t dst_offset, size_t size);

// Extended attributes of the entry `name` inside the directory `dirfd`, never following `name`
// itself when it is a symlink: `getxattrat` where the kernel has it (Linux 6.13), otherwise through
// /proc/self/fd, so that no path is ever joined by string.
long strata_getxattrat(int dirfd, const char *name, const char *key, void *buf, size_t size);
long strata_listxattrat(int dirfd, const char *name, char *buf, size_t size);
int strata_setxattrat(int dirfd, const char *name, const char *key, const void *value, size_t size, int flags);
int strata_removexattrat(int dirfd, const char *name, const char *key);
long strata_fgetxattr(int fd, const char *key, void *buf, size_t size);
long strata_flistxattr(int fd, char *buf, size_t size);
int strata_fsetxattr(int fd, const char *key, const void *value, size_t size, int flags);

int strata_isatty(int fd);
uint32_t strata_geteuid(void);
int strata_raise_nofile_limit(void);
/// Whether a process accepts connections on the unix socket at `path`: 1 yes, 0 no (nothing there,
/// or a socket file that no process serves), -errno when the probe itself failed.
int strata_unix_socket_live(const char *path);
int strata_syncfs(int fd);
/// A listening unix stream socket bound at `path` (which must not exist), mode `mode`; the
/// descriptor, close-on-exec, or -errno.
int strata_unix_listen(const char *path, unsigned int mode, int backlog);

/// A close-on-exec pipe whose buffer is asked to be `size` bytes (F_SETPIPE_SZ; a smaller
/// system limit is accepted): fds[0] reads, fds[1] writes. 0, or -errno.
int strata_pipe(int fds[2], int size);

/// Spawns `path` (searched in PATH when it has no slash) with `argv` and `envp`, its stdin,
/// stdout and stderr the descriptors given, and `fd3` (when >= 0) as its descriptor 3; every
/// other descriptor is closed in the child and its signals are reset to their defaults (SIGPIPE
/// included), in a process group of its own. The child's pid, or -errno.
int strata_spawn(const char *path, char *const argv[], char *const envp[], int in, int out, int err, int fd3);

/// Waits until child `pid` has exited, without reaping it (waitid with WNOWAIT): its pid and
/// process group stay reserved until `waitpid`. 0, or -errno.
int strata_wait_exited(int pid);
#endif
#endif
