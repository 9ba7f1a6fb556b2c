#!/usr/bin/env python3
"""Validates a JSON document against a JSON Schema (the draft its $schema names).

Usage: validate_json_schema.py SCHEMA INSTANCE
Exit 0 valid, 1 invalid (one line per error: JSON pointer and message),
2 usage error or the jsonschema module is missing (Debian: python3-jsonschema).
Used by tests/reports/json_report_writer_test.cpp for reports/report.schema.json.
"""
import json
import sys


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        import jsonschema
    except ImportError:
        print("the jsonschema module is missing (apt-get install python3-jsonschema, or scripts/setup.sh)")
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    with open(sys.argv[2], encoding="utf-8") as f:
        instance = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    errors = sorted(cls(schema).iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    for e in errors:
        print("/" + "/".join(map(str, e.absolute_path)) + ": " + e.message)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
