#!/usr/bin/env node
// `npx thumbs` from a checkout (package.json "bin"): the compiled CLI when `npm run build:cli` has
// made it, else its TypeScript sources through @swc-node/register (a development dependency).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const built = path.join(__dirname, '../../../dist/apps/cli/main.js');
let main;
if (fs.existsSync(built)) {
  main = require(built);
} else {
  require('@swc-node/register');
  main = require('../src/main.ts');
}
main.run(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error) => {
    process.stderr.write(`${error && error.stack ? error.stack : String(error)}\n`);
    process.exitCode = 4;
  },
);
