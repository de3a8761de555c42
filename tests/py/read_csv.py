#!/usr/bin/env python3
"""Read a CSV the way a spreadsheet import would, with Python's csv module.

Usage: read_csv.py FILE. Prints JSON: {"rows": [{column: cell}], "crlf_only": bool}.
`crlf_only` says every line break outside quoted fields is CRLF (RFC 4180).
"""
import csv
import json
import sys

path = sys.argv[1]
with open(path, "rb") as f:
    raw = f.read()
text = raw.decode("utf-8-sig")  # the BOM is optional for readers; utf-8-sig skips it

# Outside quoted fields every record must end in CRLF.
crlf_only = True
in_quotes = False
i = 0
while i < len(text):
    c = text[i]
    if c == '"':
        in_quotes = not in_quotes
    elif not in_quotes and c == "\n" and (i == 0 or text[i - 1] != "\r"):
        crlf_only = False
    elif not in_quotes and c == "\r" and (i + 1 >= len(text) or text[i + 1] != "\n"):
        crlf_only = False
    i += 1

with open(path, newline="", encoding="utf-8-sig") as f:
    rows = list(csv.DictReader(f, dialect="excel", strict=True))
json.dump({"rows": rows, "crlf_only": crlf_only and text.endswith("\r\n")}, sys.stdout)
