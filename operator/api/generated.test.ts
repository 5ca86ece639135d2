import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { repoRoot } from '../../tools/cluster/paths.ts';
import { renderGenerated } from './render.ts';

describe('generated API files', () => {
  it('match the schemas (run `npm run generate` after editing operator/api)', async () => {
    for (const [path, content] of await renderGenerated()) {
      const committed = await readFile(join(repoRoot, path), 'utf8').catch(() => '<missing>');
      expect(committed, `${path} is out of date`).to.equal(content);
    }
  });

  it('give the chart the very same CRDs as crds/', async () => {
    const files = await renderGenerated();
    for (const name of ['chatbots.clawbot.dev.yaml', 'apikeys.clawbot.dev.yaml']) {
      expect(files.get(`charts/clawbot-operator/crds/${name}`)).to.equal(files.get(`crds/${name}`));
    }
  });
});
