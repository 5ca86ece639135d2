// The runtime's entrypoint in its own Node process: help and unknown commands. The commands
// themselves are tested where they live (runtime/server/serve.test.ts, runtime/model/...).
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { runScript } from '../test/support/node-script.ts';

const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));

const runtimeCli = (args: string[]) => runScript(cli, args);

describe('npm run runtime -- <command>', () => {
  for (const help of ['--help', '-h', 'help']) {
    it(`prints the usage with every command and exits 0 for ${help}`, async () => {
      const { code, stdout, stderr } = await runtimeCli([help]);
      expect(code).to.equal(0);
      expect(stdout).to.include('usage: npm run runtime -- <command> [options]');
      for (const command of ['load-model', 'serve', 'import-gguf', 'tiny-model'])
        expect(stdout).to.include(`  ${command} `);
      expect(stderr).to.equal('');
    });
  }

  it('names an unknown command and exits 2 with the usage on stderr', async () => {
    for (const unknown of ['serv', 'constructor']) {
      const { code, stdout, stderr } = await runtimeCli([unknown]);
      expect(code, unknown).to.equal(2);
      expect(stderr).to.include(`unknown command "${unknown}"`);
      expect(stderr).to.include('usage: npm run runtime -- <command> [options]');
      expect(stdout).to.equal('');
    }
  });
});
