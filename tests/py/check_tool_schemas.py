#!/usr/bin/env python3
"""Check the input schemas of an MCP tools/list answer with the `jsonschema` package.

Usage: check_tool_schemas.py TOOLS.json (the `tools` array). Each inputSchema must be a valid
JSON Schema (its declared draft), accept the example arguments below and reject the bad ones,
the same way the server does.
"""
import json
import sys

import jsonschema

GOOD = {
    "list_partners": [{}],
    "funnel_report": [{}, {"partner": "seo-consultant", "last": "7d", "now": "2026-11-24T00:00:00Z"}],
    "experiments": [{}, {"partner": "seo-consultant", "since": "2026-10-01", "until": "2026-11-24"}],
    "leads": [{"stage": "cta", "since": "2026-11-01", "until": "2026-11-24"}],
    "calendar_tasks": [{"weeks": 2, "now": "2026-11-24T00:00:00Z"}],
    "check": [{}, {"file": "partners/seo-consultant.yaml"}],
}
BAD = {
    "list_partners": [{"x": 1}],
    "funnel_report": [{"colour": "blue"}, {"last": 7}],
    "experiments": [{"stage": "cta"}, {"partner": 3}],
    "leads": [{"stage": "purchase"}, {"stage": 3}],
    "calendar_tasks": [{"weeks": 0}, {"weeks": "2"}],
    "check": [{"file": 1}],
}

with open(sys.argv[1], encoding="utf-8") as f:
    tools = json.load(f)
problems = []
for tool in tools:
    name, schema = tool["name"], tool["inputSchema"]
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    v = cls(schema)
    for args in GOOD.get(name, []):
        for e in v.iter_errors(args):
            problems.append(f"{name}: {args} rejected: {e.message}")
    for args in BAD.get(name, []):
        if v.is_valid(args):
            problems.append(f"{name}: {args} accepted")
missing = set(GOOD) - {t["name"] for t in tools}
if missing:
    problems.append(f"tools missing: {sorted(missing)}")
for p in problems:
    print(p, file=sys.stderr)
sys.exit(1 if problems else 0)
