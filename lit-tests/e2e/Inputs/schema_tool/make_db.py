#!/usr/bin/env python3
"""make_db.py OUT_DIR CXXFLAGS SRC_DIR FILE[:noplugin]... writes OUT_DIR/compile_commands.json."""
import json, os, shlex, sys
out, flags, src = sys.argv[1], shlex.split(sys.argv[2]), sys.argv[3]
os.makedirs(out, exist_ok=True)
cmds = []
for spec in sys.argv[4:]:
    name, _, mode = spec.partition(":")
    f = [a for a in flags if not (mode == "noplugin" and (a.startswith("-fplugin=") or a == "-Werror=unknown-attributes"))]
    path = os.path.join(src, name)
    cmds.append({"directory": out, "file": path,
                 "arguments": ["clang++-19", "-std=c++20", *f, "-c", path, "-o", os.path.join(out, name + ".o")]})
json.dump(cmds, open(os.path.join(out, "compile_commands.json"), "w"), indent=1)
