// The files the operator writes into Kubernetes Secrets and the runtime reads where they are
// mounted. This module is the whole contract between the two: both import these types, the
// operator writes with the serializers, the runtime reads with the parsers. The parsers are
// strict (unknown fields, wrong types and impossible values are refused, naming the field), so
// a mistake surfaces as a clear log line instead of a key that silently stops working.
//
// ChatBot Secret, mounted at $SIGNING_KEYS_DIR:
//   signing-keys.json  SigningKeysFile: the HMAC keys that sign and verify the runtime's tokens.
//   apikey-pepper      The HMAC key under which API keys are hashed (generatePepper()).
// Verifier Secret (one per ChatBot), mounted at $API_KEYS_DIR:
//   <ApiKey name>.json ApiKeyVerifier: one file per ApiKey resource; hashes only, never keys.

import { randomBytes } from 'node:crypto';
import { isKeyId } from './api-key.ts';

export const SIGNING_KEYS_FILE = 'signing-keys.json';
export const APIKEY_PEPPER_FILE = 'apikey-pepper';

/** One token signing key (JWT HS256). */
export interface SigningKey {
  /**
   * Key id, written into each token's `kid` header so a verifier picks the right key.
   * 1–64 characters of [A-Za-z0-9._-], unique in the file.
   */
  kid: string;
  /** The HMAC secret: 32 random bytes in URL-safe base64 without padding (43 characters). */
  secret: string;
  /**
   * RFC 3339 time from which the key may sign. The newest key whose createdAt has passed (and
   * that is not retired) signs new tokens. Setting it a couple of minutes ahead when adding a
   * key lets every replica load the key, and so verify its tokens, before any replica signs.
   */
  createdAt: string;
  /**
   * RFC 3339 time from which the key neither signs nor verifies. Set it when a newer key takes
   * over, no earlier than the newer key's createdAt + the token TTL + 60 s of clock skew, so
   * tokens signed just before the switch live out their lifetime; then delete the entry.
   */
  retireAfter?: string;
}

/** Content of signing-keys.json. */
export interface SigningKeysFile {
  /** At least one key; order does not matter. */
  keys: SigningKey[];
}

/** What an API key may do: `chat` opens the chat routes, `models` the model listing. */
export type Scope = 'chat' | 'models';
export const SCOPES: readonly Scope[] = ['chat', 'models'];

/**
 * Active: the key in the consumer Secret. Retiring: the previous key during a rotation's grace
 * period (works until retireAfter). Revoked: refused at once.
 */
export type KeyState = 'Active' | 'Retiring' | 'Revoked';
export const KEY_STATES: readonly KeyState[] = ['Active', 'Retiring', 'Revoked'];

/** One issued key of an ApiKey, as the runtime needs it to verify the key. */
export interface VerifierKey {
  /** The key's non-secret id (12 base62 characters, also inside the key). Unique per ChatBot. */
  keyId: string;
  /** hashApiKey(pepper, key) from common/api-key.ts: 64 lowercase hex characters. */
  hash: string;
  state: KeyState;
  /** RFC 3339: the key is refused before this time. */
  notBefore: string;
  /** RFC 3339: the key is refused from this time on (expiry), even if the operator is down. */
  notAfter: string;
  /** RFC 3339, Retiring keys: the key is refused from this time on. */
  retireAfter?: string;
}

/** Content of <ApiKey name>.json in the verifier Secret. */
export interface ApiKeyVerifier {
  /** Name of the ApiKey resource (same namespace as the ChatBot); the file is named after it. */
  apiKey: string;
  /** What every key of this ApiKey may do; at least one. */
  scopes: Scope[];
  /**
   * Requests per minute each runtime replica allows one key of this ApiKey (1–10,000,000);
   * above it the client gets 429 with Retry-After. A replica cannot see the others' traffic, so
   * for a limit across N replicas write ceil(limit / N).
   */
  requestsPerMinute: number;
  /** Keys that may still be presented (Active, Retiring) or must be refused (Revoked). */
  keys: VerifierKey[];
}

/** The file name an ApiKey's verifier has in the verifier Secret. */
export function verifierFileName(apiKeyName: string): string {
  return `${apiKeyName}.json`;
}

/** A new signing key from the operating system's CSPRNG, signing from `createdAt`. */
export function generateSigningKey(createdAt: Date): SigningKey {
  return {
    kid: randomBytes(9).toString('base64url'),
    secret: randomBytes(32).toString('base64url'),
    createdAt: createdAt.toISOString(),
  };
}

/** Content for the apikey-pepper file: 32 random bytes as base64url text. */
export function generatePepper(): string {
  return randomBytes(32).toString('base64url');
}

/** The bytes of an apikey-pepper file (a trailing newline is tolerated). */
export function parsePepper(text: string): Buffer {
  return Buffer.from(secretText(text.replace(/\r?\n$/, ''), 'apikey-pepper'), 'base64url');
}

/** The HMAC key bytes of a (validated) signing key. */
export function signingKeyBytes(key: SigningKey): Buffer {
  return Buffer.from(key.secret, 'base64url');
}

export function parseSigningKeys(text: string): SigningKeysFile {
  return checkSigningKeys(parseJson(text));
}

export function serializeSigningKeys(file: SigningKeysFile): string {
  return JSON.stringify(checkSigningKeys(file), null, 2) + '\n';
}

export function parseApiKeyVerifier(text: string): ApiKeyVerifier {
  return checkVerifier(parseJson(text));
}

export function serializeApiKeyVerifier(verifier: ApiKeyVerifier): string {
  return JSON.stringify(checkVerifier(verifier), null, 2) + '\n';
}

// The checkers return fresh objects with fields in a fixed order, so serialized files are stable
// (no spurious Secret updates) and carry nothing the contract does not define.

function checkSigningKeys(value: unknown): SigningKeysFile {
  const file = record(value, '', ['keys']);
  const keys = list(file.keys, 'keys').map((item, i) => {
    const at = `keys[${i}]`;
    const key = record(item, at, ['kid', 'secret', 'createdAt', 'retireAfter']);
    return withOptional(
      {
        kid: text(
          key.kid,
          `${at}.kid`,
          /^[A-Za-z0-9._-]{1,64}$/,
          '1–64 characters of [A-Za-z0-9._-]',
        ),
        secret: secretText(key.secret, `${at}.secret`),
        createdAt: time(key.createdAt, `${at}.createdAt`),
      },
      'retireAfter',
      key.retireAfter === undefined ? undefined : time(key.retireAfter, `${at}.retireAfter`),
    );
  });
  if (keys.length === 0) throw new Error('keys must hold at least one signing key');
  unique(
    keys.map((k) => k.kid),
    'kid',
  );
  return { keys };
}

function checkVerifier(value: unknown): ApiKeyVerifier {
  const file = record(value, '', ['apiKey', 'scopes', 'requestsPerMinute', 'keys']);
  const scopes = list(file.scopes, 'scopes').map((s, i) => oneOf(s, `scopes[${i}]`, SCOPES));
  if (scopes.length === 0) throw new Error('scopes must name at least one scope');
  unique(scopes, 'scopes');
  const rpm = file.requestsPerMinute;
  if (!Number.isInteger(rpm) || (rpm as number) < 1 || (rpm as number) > 10_000_000) {
    throw new Error('requestsPerMinute must be a whole number from 1 to 10000000');
  }
  const keys = list(file.keys, 'keys').map((item, i) => {
    const at = `keys[${i}]`;
    const key = record(item, at, [
      'keyId',
      'hash',
      'state',
      'notBefore',
      'notAfter',
      'retireAfter',
    ]);
    if (typeof key.keyId !== 'string' || !isKeyId(key.keyId)) {
      throw new Error(`${at}.keyId must be a key id: 12 characters of [A-Za-z0-9]`);
    }
    const checked = withOptional(
      {
        keyId: key.keyId,
        hash: text(
          key.hash,
          `${at}.hash`,
          /^[0-9a-f]{64}$/,
          '64 lowercase hex characters (HMAC-SHA256)',
        ),
        state: oneOf(key.state, `${at}.state`, KEY_STATES),
        notBefore: time(key.notBefore, `${at}.notBefore`),
        notAfter: time(key.notAfter, `${at}.notAfter`),
      },
      'retireAfter',
      key.retireAfter === undefined ? undefined : time(key.retireAfter, `${at}.retireAfter`),
    );
    if (Date.parse(checked.notAfter) <= Date.parse(checked.notBefore)) {
      throw new Error(`${at}.notAfter must be later than ${at}.notBefore`);
    }
    return checked;
  });
  unique(
    keys.map((k) => k.keyId),
    'keyId',
  );
  return {
    apiKey: text(
      file.apiKey,
      'apiKey',
      /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
      'the name of an ApiKey resource',
    ),
    scopes,
    requestsPerMinute: rpm as number,
    keys,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error('is not valid JSON (was it cut short while being written?)');
  }
}

function record(value: unknown, at: string, fields: string[]): Record<string, unknown> {
  const where = at === '' ? 'the file' : at;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${where} must be a JSON object`);
  }
  const unknown = Object.keys(value).filter((k) => !fields.includes(k));
  if (unknown.length > 0) {
    throw new Error(
      `${where} has unknown field(s) ${unknown.join(', ')}; known: ${fields.join(', ')}`,
    );
  }
  return value as Record<string, unknown>;
}

function list(value: unknown, at: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${at} must be a JSON array`);
  return value;
}

function text(value: unknown, at: string, pattern: RegExp, what: string): string {
  if (typeof value !== 'string' || !pattern.test(value) || value.length > 253) {
    throw new Error(`${at} must be ${what}`);
  }
  return value;
}

function oneOf<T extends string>(value: unknown, at: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new Error(`${at} must be one of ${allowed.join(', ')}`);
  return value as T;
}

const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function time(value: unknown, at: string): string {
  if (typeof value !== 'string' || !rfc3339.test(value) || Number.isNaN(Date.parse(value))) {
    throw new Error(`${at} must be an RFC 3339 time such as 2025-01-31T12:00:00Z`);
  }
  return value;
}

// 32 bytes in canonical unpadded base64url are exactly 43 characters whose last one carries
// only 4 bits; anything else was mangled or is a different length.
function secretText(value: unknown, at: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/.test(value)) {
    throw new Error(`${at} must be 32 bytes in URL-safe base64 without padding (43 characters)`);
  }
  return value;
}

function unique(values: string[], field: string): void {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) throw new Error(`${field} "${v}" appears twice`);
    seen.add(v);
  }
}

// Optional fields are left out rather than written as null, so files stay minimal.
function withOptional<T extends object, K extends string>(
  base: T,
  field: K,
  value: string | undefined,
): T & Partial<Record<K, string>> {
  return value === undefined ? base : { ...base, [field]: value };
}
