// The operator process: `npm run operator`, and the operator image's entrypoint.

import { KubeConfig } from '@kubernetes/client-node';
import packageJson from '../package.json' with { type: 'json' };
import { createLogger } from '../common/log.ts';
import { addApiKeyController } from './apikey/controller.ts';
import { addChatBotController } from './chatbot/controller.ts';
import { addSigningKeysController } from './chatbot/signing-keys-controller.ts';
import { ignoredFailpoint } from './failpoint.ts';
import { Manager, runUntilSignalled } from './kit/index.ts';
import { OptionsError, parseOptions, usage } from './options.ts';

const { version } = packageJson;

if (process.argv.includes('--help')) {
  console.log(usage);
  process.exit(0);
}
let options;
try {
  options = parseOptions(process.argv.slice(2), process.env, version);
} catch (err) {
  if (!(err instanceof OptionsError)) throw err;
  console.error(`${err.message}\n\n${usage}`);
  process.exit(2);
}

const log = createLogger('operator', { level: options.logLevel });
const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
const manager = new Manager({
  kubeConfig,
  namespaces: options.namespaces,
  leaderElection: options.leaderElection,
  healthPort: options.healthPort,
  relistPeriodMs: options.relistPeriodMs,
  logger: log,
});
addChatBotController(manager, { defaultRuntimeImage: options.runtimeImage, logger: log });
addSigningKeysController(manager, { logger: log });
addApiKeyController(manager, { logger: log });
log.info('starting', {
  version,
  cluster: kubeConfig.getCurrentCluster()?.server,
  namespaces: options.namespaces ?? 'all',
  leaderElection: options.leaderElection !== false,
});
const ignored = ignoredFailpoint(process.env);
if (ignored)
  log.warn(`${ignored} is ignored: failpoints work only in the operator run from source`);
await runUntilSignalled(manager, log);
