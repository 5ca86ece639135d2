// `npm run demo`, end to end, with the tiny model (the real one is a 93 MB download): the curl
// commands it prints work pasted as they are, and Ctrl-C leaves no process behind. Both ways: on
// the local node (the default here), and as local processes (where a node cannot run).

import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { repoRoot } from '../tools/cluster/paths.ts';
import { freePort } from '../tools/cluster/processes.ts';

const exec = promisify(execFile);

const ways = [
  { name: 'on the local node', flags: [] as string[], says: 'on the local node' },
  { name: 'as local processes', flags: ['--local-processes'], says: 'as local processes' },
];

for (const way of ways)
  describe(`npm run demo, ${way.name}`, function () {
    this.timeout(900_000);

    it("prints the guide's curl commands, which work verbatim, and stops cleanly on Ctrl-C", async () => {
      const instance = `demo-test-${way.flags.length}-${process.pid}`;
      const [port, healthPort] = [await freePort(), await freePort()];
      const demo = spawn(
        process.execPath,
        [
          join(repoRoot, 'tools/demo/main.ts'),
          '--tiny-model',
          `--instance=${instance}`,
          `--port=${port}`,
          `--health-port=${healthPort}`,
          ...way.flags,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      demo.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      demo.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => demo.once('exit', resolve));
      try {
        await new Promise<void>((resolve, reject) => {
          const timer = setInterval(
            () => stdout.includes('Press Ctrl-C') && (clearInterval(timer), resolve()),
            200,
          );
          void exited.then(
            (code) => (
              clearInterval(timer),
              reject(new Error(`the demo exited (${code}):\n${stderr}`))
            ),
          );
        });
        const block = (heading: string) => {
          const start = stdout.indexOf(heading);
          return stdout.slice(start, stdout.indexOf('\n\n', start)).split('\n').slice(1).join('\n');
        };
        // Pasted into a shell exactly as printed.
        const auth = JSON.parse((await exec('bash', ['-c', block('# 4.2')])).stdout) as {
          token: string;
          expires_in: number;
        };
        expect(auth.expires_in).to.equal(86400);
        expect(auth.token.split('.')).to.have.length(3);
        const chat = JSON.parse((await exec('bash', ['-c', block('# 4.3')])).stdout) as {
          message: { role: string; content: string };
          usage: { completion_tokens: number };
        };
        expect(chat.message.role).to.equal('assistant');
        expect(chat.usage.completion_tokens).to.be.greaterThan(0);
      } finally {
        demo.kill('SIGINT');
        expect(await exited).to.equal(0);
      }
      expect(stderr).to.contain(`the ChatBot's pod, ${way.says}`);
      expect(stderr).to.contain('stopped; nothing left running.');
      // The runtime let go of its ports, and no control-plane process of this demo is left.
      for (const p of [port, healthPort]) {
        await new Promise<void>((resolve, reject) => {
          const probe = createServer().once('error', reject);
          probe.listen(p, '127.0.0.1', () => probe.close(() => resolve()));
        });
      }
      const { stdout: ps } = await exec('ps', ['-eo', 'args']);
      expect(
        ps.split('\n').filter((line) => line.includes(instance) || line.includes(`--port=${port}`)),
      ).to.deep.equal([]);
    });
  });
