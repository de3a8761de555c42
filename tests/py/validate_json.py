#!/usr/bin/env python3
"""Validate a JSON document against a JSON Schema with the `jsonschema` package.

Usage: validate_json.py SCHEMA INSTANCE. Exit 0 when valid; otherwise every error on stderr.
"""
import json
import sys

import jsonschema

with open(sys.argv[1], encoding="utf-8") as f:
    schema = json.load(f)
with open(sys.argv[2], encoding="utf-8") as f:
    instance = json.load(f)
cls = jsonschema.validators.validator_for(schema)
cls.check_schema(schema)
errors = sorted(cls(schema).iter_errors(instance), key=lambda e: list(e.absolute_path))
for e in errors:
    print(f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}", file=sys.stderr)
sys.exit(1 if errors else 0)
