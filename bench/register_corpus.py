#!/usr/bin/env python3
"""Print SQL that registers every migration of a corpus directory
(<dir>/<version>/{up,down}.sql) with confiture.register, in one transaction."""
import os, sys

def quote(s):
    tag = "$cf$"
    while tag in s:
        tag = tag[:-1] + "x$"
    return f"{tag}{s}{tag}"

root = sys.argv[1]
limit = int(sys.argv[2]) if len(sys.argv) > 2 else None
names = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))[:limit]
print("BEGIN;")
for d in names:
    up = open(os.path.join(root, d, "up.sql"), encoding="utf-8").read()
    down_path = os.path.join(root, d, "down.sql")
    down = open(down_path, encoding="utf-8").read() if os.path.exists(down_path) else None
    if down is not None and not down.strip():
        down = None
    name = d.split("_", 1)[1] if "_" in d else d
    # some corpus files use syntax newer than the server's: register them anyway
    print(f"SELECT confiture.register({quote(d)}, {quote(name)}, {quote(up)}, {quote(down) if down is not None else 'NULL'}, allow_syntax_errors => true);")
print("COMMIT;")
