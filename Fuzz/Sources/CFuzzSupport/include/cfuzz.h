// What the Glibc module does not export: statfs, statvfs's flags, xattrs and mount.
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>

/// TMPFS_MAGIC of <linux/magic.h>.
static const long cfuzz_tmpfs_magic = 0x01021994;

/// statvfs's ST_NODEV and ST_NOSUID (glibc declares them only with _GNU_SOURCE; the values are
/// the kernel's MS_NODEV and MS_NOSUID).
static const unsigned long cfuzz_st_nodev = 4;
static const unsigned long cfuzz_st_nosuid = 2;
