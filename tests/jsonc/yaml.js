// Parses each YAML file named on the command line with the `yaml` package, as Continue
// reads ~/.continue/config.yaml (`YAML.parse` on the file's text, default options: YAML
// 1.2, duplicate keys are an error), and prints the documents as one JSON array. Exits
// 1 with the parser's message when any file is rejected.
"use strict";
const fs = require("fs");
const YAML = require("yaml");

const docs = [];
for (const file of process.argv.slice(2)) {
  try {
    docs.push(YAML.parse(fs.readFileSync(file, "utf8")));
  } catch (e) {
    console.error(`${file}: ${e.message}`);
    process.exit(1);
  }
}
process.stdout.write(JSON.stringify(docs));
