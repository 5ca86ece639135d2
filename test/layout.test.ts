// The shipped code stands on its own: nothing under operator/, runtime/ or common/ (tests aside)
// imports from test/, tools/ or bench/, so the images, which hold only the shipped folders, build
// without them and no test helper reaches production by an import.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shipped = ['operator', 'runtime', 'common'];
const devOnly = ['test', 'tools', 'bench'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** Relative specifiers of static and dynamic imports, and of `new URL('…', import.meta.url)`. */
function relativeImports(source: string): string[] {
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\bnew URL\(\s*)'(\.{1,2}\/[^']+)'/g;
  return [...source.matchAll(pattern)].map((m) => m[1]!);
}

describe('layout', () => {
  it('shipped code imports nothing from test/, tools/ or bench/', () => {
    const files = shipped.flatMap((dir) => sources(join(root, dir)));
    expect(files.length).to.be.greaterThan(100);
    const climbing = files.flatMap((file) =>
      relativeImports(readFileSync(file, 'utf8'))
        .map((specifier) => relative(root, resolve(dirname(file), specifier)))
        .filter((target) => devOnly.some((dir) => target.startsWith(`${dir}/`)))
        .map((target) => `${relative(root, file)} → ${target}`),
    );
    expect(climbing).to.deep.equal([]);
  });
});
