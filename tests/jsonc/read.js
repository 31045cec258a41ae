// Prints, as JSON, what a tool reads from a settings file: `json` parses it the way
// Claude Code does (Node's JSON.parse), `jsonc` the way VS Code does (jsonc-parser with
// VS Code's settings options). Tests compare it with what anyray believes the file says.
// Usage: node read.js json|jsonc FILE
"use strict";
const fs = require("fs");

const [reader, file] = process.argv.slice(2);
const text = fs.readFileSync(file, "utf8").replace(/^\uFEFF/, "");
let value;
if (reader === "json") {
  value = JSON.parse(text);
} else if (reader === "jsonc") {
  const { parse } = require("jsonc-parser");
  const errors = [];
  value = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0) {
    console.error(`${file}: ${errors.length} parse errors`);
    process.exit(1);
  }
} else {
  console.error("usage: node read.js json|jsonc FILE");
  process.exit(2);
}
process.stdout.write(JSON.stringify(value));
