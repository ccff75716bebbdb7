#!/usr/bin/env python3
"""Checks what SwiftPM does not about Strata's module graph (part of `make test`).

SwiftPM's `--explicit-target-dependency-import-check error` already refuses an import a target
does not declare. This script refuses the rest:

1. a declared dependency no file of the target imports (Package.swift must state the truth);
2. a library module importing a Strata module it may not: the allowed arrows are the "may import"
   column of the module map in README.md's architecture section, lowest module first, and every
   arrow must point to a module on an earlier row, so the graph has no cycle and no upward edge;
3. a library module missing from that map, or a row naming a module that does not exist.

Usage: scripts/check-deps.py [PACKAGE_DIR]   (the package's JSON comes from `swift package dump-package`)
"""

import json
import os
import re
import subprocess
import sys

IMPORT = re.compile(r"^\s*(?:@testable\s+|@preconcurrency\s+|@_implementationOnly\s+)?(?:public\s+|internal\s+)?import\s+(\w+)\s*$")
ROW = re.compile(r"^\|\s*`(Strata\w*|strata)`\s*\|(.*)\|(.*)\|\s*$")
MAP_HEADING = "### Module map"


def imports_of(directory):
    """Every module imported by a Swift file under `directory`, with one file that imports it."""
    found = {}
    for base, _, files in os.walk(directory):
        for name in sorted(files):
            if not name.endswith(".swift"):
                continue
            path = os.path.join(base, name)
            if os.path.islink(path):
                continue
            with open(path, encoding="utf-8") as f:
                for line in f:
                    m = IMPORT.match(line)
                    if m:
                        found.setdefault(m.group(1), path)
    return found


def module_map(readme):
    """The README's module map: [(module, allowed Strata imports)], lowest first."""
    rows, inside = [], False
    with open(readme, encoding="utf-8") as f:
        for line in f:
            if line.startswith(MAP_HEADING):
                inside = True
                continue
            if inside and line.startswith("#"):
                break
            m = ROW.match(line.strip()) if inside else None
            if m:
                allowed = re.findall(r"`(Strata\w+)`", m.group(3))
                rows.append((m.group(1), allowed))
    return rows


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
    package = json.loads(
        subprocess.run(["swift", "package", "dump-package"], cwd=root, check=True, capture_output=True, text=True).stdout
    )
    problems = []

    targets = {}
    for t in package["targets"]:
        if t["type"] == "system":
            continue
        path = t.get("path") or os.path.join("Tests" if t["type"] == "test" else "Sources", t["name"])
        declared = []
        for d in t["dependencies"]:
            kind, value = next(iter(d.items()))
            declared.append(value[0])
        targets[t["name"]] = (t["type"], os.path.join(root, path), declared)

    # 1. Declared and unused.
    for name, (_, path, declared) in sorted(targets.items()):
        used = imports_of(path)
        for dep in declared:
            if dep not in used:
                problems.append(f"{name}: declares {dep} in Package.swift, but no file imports it")

    # 2 and 3. The arrows.
    readme = os.path.join(root, "README.md")
    rows = module_map(readme)
    if not rows:
        problems.append(f"README.md: no module map found under '{MAP_HEADING}'")
    position = {m: i for i, (m, _) in enumerate(rows)}
    for i, (module, allowed) in enumerate(rows):
        if module not in targets:
            problems.append(f"README.md module map: {module} is not a target of Package.swift")
        for dep in allowed:
            if dep not in position:
                problems.append(f"README.md module map: {module} may import {dep}, which has no row")
            elif position[dep] >= i:
                problems.append(f"README.md module map: {module} may import {dep}, which is not below it")
    for name, (kind, path, _) in sorted(targets.items()):
        if kind == "test" or name == "StrataTestSupport" or not (name.startswith("Strata") or name == "strata"):
            continue
        if name not in position:
            problems.append(f"{name}: missing from README.md's module map")
            continue
        allowed = set(rows[position[name]][1])
        for dep, where in sorted(imports_of(path).items()):
            if dep.startswith("Strata") and dep != name and dep not in allowed:
                rel = os.path.relpath(where, root)
                problems.append(f"{rel}: {name} imports {dep}, which README.md's module map does not let it import")

    if problems:
        for p in problems:
            print("check-deps: " + p, file=sys.stderr)
        sys.exit(1)
    print(f"check-deps: {len(targets)} targets, {len(rows)} modules in the map: every dependency used, every arrow downward")


if __name__ == "__main__":
    main()
