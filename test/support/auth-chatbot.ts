// Test support: a ChatBot's authentication as the runtime sees it under the operator. Mounted
// Secrets are written kubelet-style into a temporary directory, the real createAuth() serves a
// real express app on a loopback port, and every secret the fixture hands out is remembered so
// tests can prove none of them leaks into a response or a log line.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { Registry } from 'prom-client';
import { generateApiKey, hashApiKey } from '../../common/api-key.ts';
import { createLogger } from '../../common/log.ts';
import {
  APIKEY_PEPPER_FILE,
  type ApiKeyVerifier,
  generatePepper,
  generateSigningKey,
  parsePepper,
  SIGNING_KEYS_FILE,
  type SigningKey,
  serializeApiKeyVerifier,
  serializeSigningKeys,
  type VerifierKey,
  verifierFileName,
} from '../../common/runtime-secrets.ts';
import { httpErrorHandler } from '../../runtime/http-errors.ts';
import { type Auth, createAuth, principalOf } from '../../runtime/auth/index.ts';
import { writeLikeKubelet } from '../../tools/local-pod/kubelet-volume.ts';
import { startServer, type RunningServer } from './auth-server.ts';

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body (undefined when it is not JSON). */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface IssuedKey {
  key: string;
  keyId: string;
}

const HOUR = 3_600_000;

export class TestChatBot {
  readonly logs: string[] = [];
  readonly registry = new Registry();
  /** Every key, token, hash and key secret handed out; none may appear in logs or errors. */
  readonly secrets = new Set<string>();
  readonly replies: { path: string; reply: Reply }[] = [];
  readonly pepper: Buffer;
  signingKeys: SigningKey[];
  readonly verifiers = new Map<string, ApiKeyVerifier>();
  #server!: RunningServer;
  auth!: Auth;
  readonly #pepperText: string;

  readonly root: string;
  readonly env: Record<string, string>;

  private constructor(root: string, env: Record<string, string>) {
    this.root = root;
    this.env = env;
    this.#pepperText = generatePepper();
    this.pepper = parsePepper(this.#pepperText);
    this.signingKeys = [generateSigningKey(new Date(Date.now() - HOUR))];
    this.secrets.add(this.#pepperText).add(this.signingKeys[0]!.secret);
  }

  get signingDir(): string {
    return join(this.root, 'signing');
  }
  get apiKeysDir(): string {
    return join(this.root, 'apikeys');
  }
  get url(): string {
    return this.#server.url;
  }

  /**
   * Operator mode (SIGNING_KEYS_DIR + API_KEYS_DIR + ChatBot names) unless `env` says otherwise;
   * `env` entries set to '' are removed.
   */
  static async start(
    env: Record<string, string> = {},
    reloadIntervalMs = 600_000,
  ): Promise<TestChatBot> {
    const root = await mkdtemp(join(tmpdir(), 'clawbot-auth-'));
    const merged = Object.fromEntries(
      Object.entries({
        SIGNING_KEYS_DIR: join(root, 'signing'),
        API_KEYS_DIR: join(root, 'apikeys'),
        CHATBOT_NAMESPACE: 'team-a',
        CHATBOT_NAME: 'helper',
        ...env,
      }).filter(([, v]) => v !== ''),
    );
    const bot = new TestChatBot(root, merged);
    if (merged.SIGNING_KEYS_DIR) await bot.writeSigningSecret();
    if (merged.API_KEYS_DIR) await bot.writeVerifiers();
    const logger = createLogger('auth', { level: 'debug', write: (line) => bot.logs.push(line) });
    bot.auth = await createAuth({ env: merged, logger, registry: bot.registry, reloadIntervalMs });

    const app = express();
    app.use(bot.auth.router);
    const whoami: express.RequestHandler = (_req, res) => {
      res.json(principalOf(res));
    };
    app.get('/v1/models', bot.auth.require('models', { acceptApiKey: true }), whoami);
    app.post('/v1/chat/completions', bot.auth.require('chat', { acceptApiKey: true }), whoami);
    app.get('/api/whoami', bot.auth.require('chat'), whoami);
    app.use(httpErrorHandler(logger));
    bot.#server = await startServer(app);
    return bot;
  }

  async close(): Promise<void> {
    this.auth.close();
    await this.#server.close();
    await rm(this.root, { recursive: true, force: true });
  }

  /** A new key of the ApiKey named `apiKeyName` (made with default settings if new), valid a day. */
  addKey(
    apiKeyName: string,
    overrides: Partial<VerifierKey> = {},
    settings: Partial<ApiKeyVerifier> = {},
  ): IssuedKey {
    const { key, keyId } = generateApiKey();
    const hash = hashApiKey(this.pepper, key);
    this.secrets.add(key).add(hash);
    const verifier = this.verifiers.get(apiKeyName) ?? {
      apiKey: apiKeyName,
      scopes: ['chat', 'models'],
      requestsPerMinute: 1000,
      keys: [],
    };
    verifier.keys.push({
      keyId,
      hash,
      state: 'Active',
      notBefore: new Date(Date.now() - HOUR).toISOString(),
      notAfter: new Date(Date.now() + 24 * HOUR).toISOString(),
      ...overrides,
    });
    this.verifiers.set(apiKeyName, { ...verifier, ...settings });
    return { key, keyId };
  }

  /** Changes one key's verifier entry (in memory; writeVerifiers() publishes). */
  updateKey(keyId: string, changes: Partial<VerifierKey>): void {
    for (const verifier of this.verifiers.values()) {
      const index = verifier.keys.findIndex((k) => k.keyId === keyId);
      if (index >= 0) verifier.keys[index] = { ...verifier.keys[index]!, ...changes };
    }
  }

  /** Publishes the verifier Secret as the kubelet would; `raw` adds or replaces files as given. */
  async writeVerifiers(raw: Record<string, string> = {}): Promise<void> {
    const files: Record<string, string> = {};
    for (const v of this.verifiers.values())
      files[verifierFileName(v.apiKey)] = serializeApiKeyVerifier(v);
    await writeLikeKubelet(this.apiKeysDir, { ...files, ...raw });
  }

  async writeSigningSecret(): Promise<void> {
    for (const key of this.signingKeys) this.secrets.add(key.secret);
    await writeLikeKubelet(this.signingDir, {
      [SIGNING_KEYS_FILE]: serializeSigningKeys({ keys: this.signingKeys }),
      [APIKEY_PEPPER_FILE]: `${this.#pepperText}\n`,
    });
  }

  async call(path: string, init: RequestInit = {}): Promise<Reply> {
    const res = await fetch(this.url + path, init);
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const reply = { status: res.status, headers: res.headers, text, body };
    this.replies.push({ path, reply });
    return reply;
  }

  /** POST /api/auth with {"api_key": key}, or with `raw` as the body. */
  exchange(key: string, raw?: string): Promise<Reply> {
    return this.call('/api/auth', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: raw ?? JSON.stringify({ api_key: key }),
    });
  }

  async token(key: string): Promise<string> {
    const reply = await this.exchange(key);
    if (reply.status !== 200) throw new Error(`no token: ${reply.text}`);
    this.secrets.add(reply.body.token);
    return reply.body.token;
  }

  get(path: string, bearer?: string): Promise<Reply> {
    return this.call(
      path,
      bearer === undefined ? {} : { headers: { authorization: `Bearer ${bearer}` } },
    );
  }

  /** Where a secret shows up outside the one place it belongs (a token in its own issuance). */
  leaks(): string[] {
    const found: string[] = [];
    for (const secret of this.secrets) {
      for (const line of this.logs) if (line.includes(secret)) found.push(`log line: ${line}`);
      for (const { path, reply } of this.replies) {
        const ownToken =
          path === '/api/auth' && reply.status === 200 && reply.body?.token === secret;
        if (!ownToken && reply.text.includes(secret)) found.push(`reply to ${path}: ${reply.text}`);
      }
    }
    return found;
  }

  /** The audit lines logged so far, parsed. */
  audits(): Record<string, unknown>[] {
    return this.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === 'authentication');
  }
}
