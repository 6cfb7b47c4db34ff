#!/usr/bin/env python3
# The API descriptions' tooling. docs/openapi.yaml is the source of the OpenAPI file; the
# gateway serves docs/openapi.json, which is generated from it and committed.
#
#   python3 scripts/apidocs.py openapi-json   rewrite docs/openapi.json from docs/openapi.yaml
#   python3 scripts/apidocs.py check          exit 1 when docs/openapi.json is not what
#                                             docs/openapi.yaml says (scripts/test.d/schemathesis.sh)
#
# Needs PyYAML (the test's virtualenv has it through schemathesis).
import json
import os
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE = os.path.join(ROOT, "docs", "openapi.yaml")
TARGET = os.path.join(ROOT, "docs", "openapi.json")


def rendered():
    """The JSON text the YAML source stands for: two-space indents, keys in source order."""
    with open(SOURCE, encoding="utf-8") as f:
        document = yaml.safe_load(f)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv):
    if argv[1:] == ["openapi-json"]:
        with open(TARGET, "w", encoding="utf-8") as f:
            f.write(rendered())
        print(f"wrote {os.path.relpath(TARGET, ROOT)}")
        return 0
    if argv[1:] == ["check"]:
        with open(TARGET, encoding="utf-8") as f:
            committed = f.read()
        if committed != rendered():
            print("docs/openapi.json differs from docs/openapi.yaml: run "
                  "`python3 scripts/apidocs.py openapi-json` and commit both", file=sys.stderr)
            return 1
        print("docs/openapi.json matches docs/openapi.yaml")
        return 0
    print(__doc__ or "usage: apidocs.py openapi-json | check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
