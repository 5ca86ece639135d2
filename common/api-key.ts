// ClawBot API keys: `cbk_<keyId>_<secret><checksum>`, all in [A-Za-z0-9_] so a double click
// selects the whole key. The fixed prefix lets secret scanners find leaked keys; the CRC32
// checksum lets anyone reject a mistyped or truncated key without a lookup; the key id (not
// secret) names the key in logs, metrics and the operator's status.

import { createHmac, type KeyObject, randomBytes, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';

const PREFIX = 'cbk_';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** 12 base62 characters (~71 bits): unique among a ChatBot's keys without coordination. */
const KEY_ID_LENGTH = 12;
/** 32 base62 characters carry 32·log2(62) ≈ 190.5 bits of secret. */
const SECRET_LENGTH = 32;
/** A CRC32 (< 2^32) fits in 6 base62 digits (62^6 ≈ 5.7·10^10). */
const CHECKSUM_LENGTH = 6;

const shape = new RegExp(
  `^${PREFIX}([0-9A-Za-z]{${KEY_ID_LENGTH}})_[0-9A-Za-z]{${SECRET_LENGTH}}([0-9A-Za-z]{${CHECKSUM_LENGTH}})$`,
);

const keyIdShape = new RegExp(`^[0-9A-Za-z]{${KEY_ID_LENGTH}}$`);

export const API_KEY_LENGTH = PREFIX.length + KEY_ID_LENGTH + 1 + SECRET_LENGTH + CHECKSUM_LENGTH;

export interface GeneratedApiKey {
  /** The whole key: hand it to the client once, store only its hash. */
  key: string;
  /** The key's non-secret id (also readable from the key itself). */
  keyId: string;
}

export type ParsedApiKey =
  | { ok: true; keyId: string }
  | { ok: false; reason: 'malformed' | 'bad-checksum'; message: string };

/** A new key from the operating system's CSPRNG. */
export function generateApiKey(): GeneratedApiKey {
  const keyId = randomBase62(KEY_ID_LENGTH);
  const body = `${PREFIX}${keyId}_${randomBase62(SECRET_LENGTH)}`;
  return { key: body + checksum(body), keyId };
}

/** Checks a key's shape and checksum, without any lookup, and returns its key id. */
export function parseApiKey(text: string): ParsedApiKey {
  const match = shape.exec(text);
  if (!match) {
    return {
      ok: false,
      reason: 'malformed',
      message:
        `not a ClawBot API key: expected ${API_KEY_LENGTH} characters starting with "${PREFIX}"; ` +
        "copy the whole value of api-key from the key's Secret",
    };
  }
  const body = text.slice(0, -CHECKSUM_LENGTH);
  if (checksum(body) !== match[2]) {
    return {
      ok: false,
      reason: 'bad-checksum',
      message:
        "the API key's checksum does not match: it was mistyped or cut short; " +
        "copy the whole value of api-key from the key's Secret",
    };
  }
  return { ok: true, keyId: match[1]! };
}

/** True for a well-formed key id (what the verifier files and token subjects carry). */
export function isKeyId(text: string): boolean {
  return keyIdShape.test(text);
}

/** True for text that starts like a ClawBot key, so it should be judged as one. */
export function looksLikeApiKey(text: string): boolean {
  return text.startsWith(PREFIX);
}

/**
 * What the verifier stores instead of the key: hex HMAC-SHA256 under a per-ChatBot pepper.
 * Keys carry 190 bits of entropy, so a keyed hash suffices (slow password hashes would only
 * cost latency); the pepper keeps a leaked verifier Secret from confirming guessed keys.
 * Hashing per request? Pass the pepper as a KeyObject (createSecretKey): raw bytes are
 * imported anew on every call, which costs about ten times the HMAC itself.
 */
export function hashApiKey(pepper: Uint8Array | KeyObject, key: string): string {
  return createHmac('sha256', pepper).update(key, 'utf8').digest('hex');
}

/** Compares a presented key with a stored hash in time independent of where they differ. */
export function apiKeyMatchesHash(
  pepper: Uint8Array | KeyObject,
  key: string,
  storedHash: string,
): boolean {
  const actual = Buffer.from(hashApiKey(pepper, key), 'hex');
  const expected = Buffer.from(storedHash, 'hex');
  return expected.length === actual.length && timingSafeEqual(actual, expected);
}

function checksum(body: string): string {
  let value = crc32(body);
  let digits = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    digits = BASE62[value % 62]! + digits;
    value = Math.floor(value / 62);
  }
  return digits;
}

// Rejection sampling: bytes ≥ 248 (= 4·62) are dropped, so every character is equally likely.
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}
