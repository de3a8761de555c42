#!/usr/bin/env python3
"""Validate a JSON document against a JSON Schema with the `jsonschema` package.

Usage: validate_json.py SCHEMA INSTANCE. Exit 0 when valid; 1 with every validation error on
stderr (one per line: path, message); 2 when the schema or the document cannot be read or the
schema itself is invalid (so a negative test never mistakes a crash for a rejection).
"""
import json
import sys

import jsonschema

try:
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    with open(sys.argv[2], encoding="utf-8") as f:
        instance = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
except Exception as e:  # noqa: BLE001 - any failure here is "could not validate", exit 2
    print(f"validate_json.py: {type(e).__name__}: {e}", file=sys.stderr)
    sys.exit(2)
for e in errors:
    print(f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}", file=sys.stderr)
sys.exit(1 if errors else 0)
