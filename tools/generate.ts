// `npm run generate`: writes the CRDs and TypeScript types from the API schemas.
// `npm run generate -- --check`: exits 1 if any generated file is out of date.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { renderGenerated } from '../operator/api/render.ts';
import { repoRoot } from './cluster/paths.ts';

const check = process.argv.includes('--check');
const stale: string[] = [];
for (const [path, content] of await renderGenerated()) {
  const file = join(repoRoot, path);
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current === content) continue;
  if (check) {
    stale.push(path);
  } else {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content);
    console.log(`wrote ${path}`);
  }
}
if (stale.length) {
  console.error(`out of date (run \`npm run generate\`):\n  ${stale.join('\n  ')}`);
  process.exit(1);
}
