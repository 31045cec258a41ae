// Parses each file named on the command line with VS Code's own JSONC parser (the
// `jsonc-parser` package, with the options VS Code uses for settings.json) and exits 1,
// printing every error with its offset, when any file has one.
"use strict";
const fs = require("fs");
const { parse, printParseErrorCode } = require("jsonc-parser");

let failed = false;
for (const file of process.argv.slice(2)) {
  const errors = [];
  const text = fs.readFileSync(file, "utf8").replace(/^\uFEFF/, "");
  const value = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  for (const e of errors) {
    failed = true;
    console.error(`${file}: offset ${e.offset}: ${printParseErrorCode(e.error)}`);
  }
  if (errors.length === 0 && (value === null || typeof value !== "object" || Array.isArray(value))) {
    failed = true;
    console.error(`${file}: the top level is not an object`);
  }
}
process.exit(failed ? 1 : 0);
