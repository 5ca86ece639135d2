import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { ConfigError, readSetting, runtimeSettings } from './runtime-env.ts';

describe('the runtime settings table', () => {
  it('is what runtime/README.md documents, default by default', async () => {
    const readme = await readFile(new URL('../runtime/README.md', import.meta.url), 'utf8');
    for (const setting of Object.values(runtimeSettings)) {
      const row = readme
        .split('\n')
        .find((line) => line.split('|')[1]?.includes(`\`${setting.env}\``));
      expect(row, `a row for ${setting.env}`).to.not.equal(undefined);
      if (setting.default !== undefined) {
        const documented = row!.split('|')[2]!.trim();
        expect(documented, setting.env).to.equal(`\`${String(setting.default)}\``);
      }
    }
  });

  it('reads blank as unset, and reports a refused value with the variable and the default kept', () => {
    const problems: string[] = [];
    expect(readSetting({ MAX_TOKENS: ' ' }, runtimeSettings.maxTokens, problems)).to.equal(2048);
    expect(readSetting({ MAX_TOKENS: 'lots' }, runtimeSettings.maxTokens, problems)).to.equal(2048);
    expect(problems).to.deep.equal(['MAX_TOKENS="lots": must be a whole number from 1 to 1048576']);
    expect(new ConfigError(problems).message).to.equal(
      'invalid configuration:\n  MAX_TOKENS="lots": must be a whole number from 1 to 1048576',
    );
  });
});
