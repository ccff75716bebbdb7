#!/usr/bin/env python3
"""Print one digest summarising a tree: every entry's path, type, mode, owner, size, symlink
target, whole-second mtime (not for directories, whose times appliers treat differently), hardlink
group and file content. Two trees that print the same line are the same tree for an image.

Hardlink groups are the names that share an inode within the tree, not st_nlink: overlayfs reports
a lower file's link count even after its other names were removed or copied up.

usage: treesum.py DIR [--list]   (--list: one line per entry instead of the digest)
"""
import collections
import hashlib
import os
import stat
import sys

root = sys.argv[1]
listing = "--list" in sys.argv[2:]
entries = []
names_of_inode = collections.defaultdict(list)
for dirpath, dirnames, filenames in os.walk(root):
    dirnames.sort()
    for name in sorted(dirnames + filenames):
        p = os.path.join(dirpath, name)
        st = os.lstat(p)
        entries.append((p, os.path.relpath(p, root), st))
        if stat.S_ISREG(st.st_mode):
            names_of_inode[st.st_ino].append(os.path.relpath(p, root))

total = hashlib.sha256()
for p, rel, st in entries:
    fields = [rel, oct(st.st_mode), str(st.st_uid), str(st.st_gid)]
    if stat.S_ISLNK(st.st_mode):
        fields.append(os.readlink(p))
    if not stat.S_ISDIR(st.st_mode):
        fields += [str(int(st.st_mtime)), str(st.st_size)]
    if stat.S_ISREG(st.st_mode):
        group = names_of_inode[st.st_ino]
        if len(group) > 1:
            fields.append("link:" + group[0])
        h = hashlib.sha256()
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        fields.append(h.hexdigest())
    line = "\0".join(fields) + "\n"
    if listing:
        sys.stdout.write(line.replace("\0", " "))
    total.update(line.encode("utf-8", "surrogateescape"))
if not listing:
    print(total.hexdigest())
