#!/usr/bin/env python3
"""Print one digest summarising a tree: every entry's path, type, mode, owner, size, symlink
target, whole-second mtime (not for directories, whose times appliers treat differently), hardlink
group and file content. Two trees that print the same line are the same tree for an image.

usage: treesum.py DIR
"""
import hashlib
import os
import stat
import sys

root = sys.argv[1]
total = hashlib.sha256()
groups = {}
for dirpath, dirnames, filenames in os.walk(root):
    dirnames.sort()
    for name in sorted(dirnames + filenames):
        p = os.path.join(dirpath, name)
        rel = os.path.relpath(p, root)
        st = os.lstat(p)
        fields = [rel, oct(st.st_mode), str(st.st_uid), str(st.st_gid)]
        if stat.S_ISLNK(st.st_mode):
            fields.append(os.readlink(p))
        if not stat.S_ISDIR(st.st_mode):
            fields += [str(int(st.st_mtime)), str(st.st_size)]
        if stat.S_ISREG(st.st_mode):
            if st.st_nlink > 1:
                fields.append("link:" + groups.setdefault(st.st_ino, rel))
            h = hashlib.sha256()
            with open(p, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            fields.append(h.hexdigest())
        total.update(("\0".join(fields) + "\n").encode("utf-8", "surrogateescape"))
print(total.hexdigest())
