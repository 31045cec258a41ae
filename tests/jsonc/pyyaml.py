"""Parses each YAML file named on the command line as aider reads ~/.aider.conf.yml
(ConfigArgParse's YAMLConfigFileParser: PyYAML's safe loader, the C one when built, on
the file opened as text) and prints the documents as one JSON array. Exits 1 with the
parser's message when any file is rejected."""
import json
import sys

import yaml

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
docs = []
for path in sys.argv[1:]:
    try:
        with open(path, encoding="utf-8") as f:
            docs.append(yaml.load(f, Loader=Loader))
    except yaml.YAMLError as e:
        print(f"{path}: {e}", file=sys.stderr)
        sys.exit(1)
json.dump(docs, sys.stdout, default=str)
