// `npm run runtime -- serve`: the runtime container's main process. Configuration comes from the
// environment only (runtime/README.md lists it), as the operator writes it into a ConfigMap.
//
// Exit codes: 0 after a graceful stop (SIGTERM or SIGINT), 1 when the server cannot start or the
// model cannot load, 2 for a wrong command line or configuration.
import { createLogger } from '../../common/log.ts';
import { ConfigError } from '../../common/runtime-env.ts';
import { readAuthConfig } from '../auth/config.ts';
import { readServerConfig, type ServerConfig } from './config.ts';
import { ListenError } from './listen.ts';
import { type RuntimeServer, startRuntimeServer } from './server.ts';

const USAGE = `usage: npm run runtime -- serve

Serves the chat API (POST /api/auth, POST /api/chat, POST /v1/chat/completions, GET /v1/models)
on PORT and /livez, /readyz and /metrics on HEALTH_PORT. Configured by environment variables;
runtime/README.md lists them. The smallest standalone setup:

  MODEL_PATH=<model folder> API_KEY=<any secret> npm run runtime -- serve`;

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  if (argv.length > 0) {
    console.error(
      `serve takes no arguments (got ${argv.join(' ')}): it is configured by environment variables\n\n${USAGE}`,
    );
    return 2;
  }

  const config = readConfig(process.env);
  if (config instanceof ConfigError) {
    // Not LOG_LEVEL's level: it may be the invalid variable.
    createLogger('serve', { level: 'info' }).error(
      `invalid configuration: ${config.problems.join('; ')}`,
      { problems: config.problems },
    );
    return 2;
  }

  const log = createLogger('serve', { level: config.logLevel });
  const stopRequested = new Promise<string>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const)
      process.once(signal, () => resolve(signal));
  });

  let server: RuntimeServer;
  try {
    server = await startRuntimeServer({ config, env: process.env });
  } catch (error) {
    // A listen error's message is the whole story (which port, why, what to do).
    log.error(
      error instanceof ListenError ? error.message : `cannot start: ${(error as Error).message}`,
    );
    return 1;
  }

  // The model loads while the listeners already answer probes ("loading" on /readyz).
  const loaded = server.loadModel().then(
    () => undefined,
    (error: Error) => error,
  );
  const first = await Promise.race([loaded, stopRequested]);
  if (first instanceof Error) {
    log.error(`cannot load the model from ${config.modelPath} (MODEL_PATH): ${first.message}`);
    await server.stop();
    return 1;
  }
  const signal = typeof first === 'string' ? first : await stopRequested;
  log.info('stop requested', { signal });
  await server.stop();
  return 0;
}

/** Both the server's and the auth layer's variables, every problem reported at once. */
function readConfig(env: NodeJS.ProcessEnv): ServerConfig | ConfigError {
  const problems: string[] = [];
  let config: ServerConfig | undefined;
  try {
    config = readServerConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  try {
    readAuthConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  return config !== undefined && problems.length === 0 ? config : new ConfigError(problems);
}
