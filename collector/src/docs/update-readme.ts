/** `npm run docs`: rewrites the README's generated blocks in place. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderReadme } from './readme-tables';

const readmePath = path.join(__dirname, '..', '..', '..', 'README.md');
fs.writeFileSync(readmePath, renderReadme(fs.readFileSync(readmePath, 'utf8')));
process.stdout.write(`updated ${readmePath}\n`);
