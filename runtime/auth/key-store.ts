// The keys the runtime verifies with, loaded from the mounted Secrets and kept current as the
// operator rotates or revokes keys (mounted Secrets change in place; environment variables
// never do, and restarting a pod that holds a loaded model is expensive).
//
// A file that fails to parse never replaces a good copy: the error is logged and the last good
// version stays in force, file by file. At start-up a broken signing Secret is fatal (there is
// no good copy to keep); a broken verifier file only leaves that ApiKey's keys out.

import { createSecretKey, type KeyObject, randomBytes, webcrypto } from 'node:crypto';
import { join } from 'node:path';
import {
  APIKEY_PEPPER_FILE,
  type ApiKeyVerifier,
  parseApiKeyVerifier,
  parsePepper,
  parseSigningKeys,
  SIGNING_KEYS_FILE,
  signingKeyBytes,
} from '../../common/runtime-secrets.ts';
import type { Logger } from '../../common/log.ts';
import type { AuthConfig } from './config.ts';
import { indexKeys, type KeySnapshot, type LoadedSigningKey } from './key-index.ts';
import { readSecretVolume, watchSecretVolume } from './secret-volume.ts';

export interface KeyStoreOptions {
  /** Re-read the directories at least this often, in case a change event was missed. */
  reloadIntervalMs?: number;
}

const DEFAULT_RELOAD_INTERVAL_MS = 30_000;
const SETTLE_MS = 50;

interface SigningState {
  /** The files' text, to skip re-parsing when nothing changed. */
  source: string;
  keys: LoadedSigningKey[];
  pepper: KeyObject;
}

export class KeyStore {
  readonly #config: AuthConfig;
  readonly #log: Logger;
  #signing: SigningState;
  readonly #verifiers = new Map<string, { source: string; verifier: ApiKeyVerifier }>();
  #snapshot!: KeySnapshot;
  readonly #stops: (() => void)[] = [];
  #chain: Promise<void> = Promise.resolve();
  #queued: Promise<void> | undefined;

  private constructor(config: AuthConfig, log: Logger, signing: SigningState) {
    this.#config = config;
    this.#log = log;
    this.#signing = signing;
  }

  /** Loads everything once, then watches the mounted directories. */
  static async open(
    config: AuthConfig,
    log: Logger,
    options: KeyStoreOptions = {},
  ): Promise<KeyStore> {
    const signing = config.signingKeysDir
      ? await loadSigning(config.signingKeysDir).catch((error: Error) => {
          throw new Error(`cannot start: ${error.message}`, { cause: error });
        })
      : await ephemeralSigning(log);
    const store = new KeyStore(config, log, signing);
    if (config.apiKeysDir) await store.#loadVerifiers(config.apiKeysDir);
    store.#rebuild();
    if (!config.apiKeysDir && !config.standaloneApiKey) {
      log.warn(
        'no API keys are configured, so every request will be refused: set API_KEY, or run under the operator',
      );
    }

    const intervalMs = options.reloadIntervalMs ?? DEFAULT_RELOAD_INTERVAL_MS;
    for (const dir of [config.signingKeysDir, config.apiKeysDir]) {
      if (dir === undefined) continue;
      store.#stops.push(
        watchSecretVolume(dir, () => void store.reload(), {
          intervalMs,
          settleMs: SETTLE_MS,
          onError: (error) =>
            log.warn('cannot watch a key directory; re-reading it periodically', { dir, error }),
        }),
      );
    }
    return store;
  }

  /** The keys in force now; a new object after each change, never mutated. */
  get snapshot(): KeySnapshot {
    return this.#snapshot;
  }

  /** Re-reads the directories; concurrent calls share one pending reload. */
  reload(): Promise<void> {
    if (!this.#queued) {
      this.#queued = this.#chain
        .then(() => {
          this.#queued = undefined; // from here on, a new change needs a new pass
          return this.#reloadNow();
        })
        .catch((error: Error) => this.#log.error('key reload failed', { error }));
      this.#chain = this.#queued;
    }
    return this.#queued;
  }

  close(): void {
    for (const stop of this.#stops.splice(0)) stop();
  }

  async #reloadNow(): Promise<void> {
    const { signingKeysDir, apiKeysDir } = this.#config;
    if (signingKeysDir) {
      try {
        const next = await loadSigning(signingKeysDir, this.#signing);
        if (next !== this.#signing) {
          this.#signing = next;
          this.#log.info('signing keys reloaded', { kids: next.keys.map((k) => k.kid) });
        }
      } catch (error) {
        this.#log.error('keeping the last good signing keys', { error });
      }
    }
    if (apiKeysDir) await this.#loadVerifiers(apiKeysDir);
    this.#rebuild();
  }

  async #loadVerifiers(dir: string): Promise<void> {
    let files: Map<string, string>;
    try {
      files = await readSecretVolume(dir);
    } catch (error) {
      this.#log.error('cannot read the API key directory; keeping the keys loaded before', {
        dir,
        error,
      });
      return;
    }
    for (const name of this.#verifiers.keys()) {
      if (!files.has(name)) {
        this.#verifiers.delete(name);
        this.#log.info('API key verifier removed', { file: name });
      }
    }
    for (const [name, source] of files) {
      if (!name.endsWith('.json') || this.#verifiers.get(name)?.source === source) continue;
      try {
        const verifier = parseApiKeyVerifier(source);
        this.#verifiers.set(name, { source, verifier });
        this.#log.info('API key verifier loaded', {
          file: name,
          apiKeyName: verifier.apiKey,
          keys: verifier.keys.map((k) => ({ keyId: k.keyId, state: k.state })),
        });
      } catch (error) {
        const kept = this.#verifiers.has(name)
          ? 'keeping its last good version'
          : 'its keys are refused';
        this.#log.error(`invalid API key verifier file: ${kept}`, {
          file: join(dir, name),
          error: (error as Error).message,
        });
      }
    }
  }

  #rebuild(): void {
    const standalone = this.#config.standaloneApiKey;
    const { keys, conflicts } = indexKeys(
      [...this.#verifiers.values()].map((v) => v.verifier),
      standalone === undefined
        ? undefined
        : { apiKey: standalone, requestsPerMinute: this.#config.standaloneRequestsPerMinute },
      this.#signing.pepper,
    );
    if (conflicts.length > 0) {
      this.#log.error('key ids listed by more than one verifier file are refused', {
        keyIds: conflicts,
      });
    }
    this.#snapshot = { pepper: this.#signing.pepper, signingKeys: this.#signing.keys, keys };
  }
}

/** Reads the ChatBot Secret; returns `previous` itself when its files have not changed. */
async function loadSigning(dir: string, previous?: SigningState): Promise<SigningState> {
  const files = await readSecretVolume(dir).catch((error: NodeJS.ErrnoException) => {
    throw new Error(
      `cannot read ${dir} (${error.code ?? error.message}): is the ChatBot's Secret mounted there?`,
      {
        cause: error,
      },
    );
  });
  const keysText = files.get(SIGNING_KEYS_FILE);
  const pepperText = files.get(APIKEY_PEPPER_FILE);
  if (keysText === undefined || pepperText === undefined) {
    throw new Error(
      `${dir} must hold ${SIGNING_KEYS_FILE} and ${APIKEY_PEPPER_FILE} (the ChatBot's Secret)`,
    );
  }
  const source = `${keysText}\0${pepperText}`;
  if (previous?.source === source) return previous;
  const parse = <T>(file: string, text: string, parser: (text: string) => T): T => {
    try {
      return parser(text);
    } catch (error) {
      throw new Error(`${join(dir, file)}: ${(error as Error).message}`, { cause: error });
    }
  };
  const parsed = parse(SIGNING_KEYS_FILE, keysText, parseSigningKeys);
  const pepper = createSecretKey(parse(APIKEY_PEPPER_FILE, pepperText, parsePepper));
  const keys = await Promise.all(
    parsed.keys.map(async (key) => ({
      kid: key.kid,
      createdAt: Date.parse(key.createdAt),
      ...(key.retireAfter === undefined ? {} : { retireAfter: Date.parse(key.retireAfter) }),
      key: await importHmacKey(signingKeyBytes(key)),
    })),
  );
  return { source, keys, pepper };
}

async function ephemeralSigning(log: Logger): Promise<SigningState> {
  log.warn(
    'SIGNING_KEYS_DIR is not set: tokens are signed with a random in-memory key, so they ' +
      'stop working when this process restarts and are not accepted by other replicas',
  );
  const key = await importHmacKey(randomBytes(32));
  return {
    source: '',
    keys: [{ kid: `ephemeral-${randomBytes(6).toString('base64url')}`, createdAt: 0, key }],
    pepper: createSecretKey(randomBytes(32)),
  };
}

// Imported once per key: handing jose raw bytes would re-import the key on every request.
function importHmacKey(bytes: Uint8Array): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ]);
}
