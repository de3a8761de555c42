"""Validate a JSON file against a JSON Schema (draft 2020-12): validate_json.py SCHEMA FILE."""
import json
import sys

import jsonschema

schema = json.load(open(sys.argv[1], encoding="utf-8"))
data = json.load(open(sys.argv[2], encoding="utf-8"))
jsonschema.Draft202012Validator.check_schema(schema)
errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.path))
for e in errors:
    print(f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}")
sys.exit(1 if errors else 0)
