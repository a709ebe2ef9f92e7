#!/usr/bin/env -S node --max-semi-space-size=1 --no-opt --optimize-for-size
// The `kappie` command as npm links it (node_modules/.bin/kappie, so `npx kappie` in the repository). It is a
// committed file, not the build output: npm links a package's bins at install time and silently skips a bin whose
// file does not exist yet, which dist/cli.js does not on a fresh clone. The Node flag is the one dist/cli.js carries
// (see collector/src/cli.ts).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const cli = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(cli)) {
  process.stderr.write(
    'kappie: the collector is not built yet: run `npm start` or `npm run build` in the repository first\n',
  );
  process.exit(1);
}
require(cli).run(process.argv);
