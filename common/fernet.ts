// Fernet tokens, exactly as the Fernet specification defines them:
//   base64url(0x80 ‖ u64 BE timestamp ‖ 16-byte IV ‖ AES-128-CBC/PKCS7 ciphertext ‖ HMAC-SHA256)
// where the HMAC covers everything before it, and the key is base64url of 32 bytes: the first
// half signs, the second encrypts. The operator uses it to deliver API keys as ciphertext; the
// CLI (`npm run clawbot -- fernet ...`) decrypts them.

import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

const VERSION = 0x80;
const IV_BYTES = 16;
const MAC_BYTES = 32;
const BLOCK_BYTES = 16;
const HEADER_BYTES = 1 + 8 + IV_BYTES;
/** A token may be stamped up to this far ahead of our clock (the spec's allowance for skew). */
export const FERNET_MAX_CLOCK_SKEW_SECONDS = 60;

export type FernetFailure =
  | 'invalid-key'
  | 'malformed'
  | 'unsupported-version'
  | 'expired'
  | 'from-the-future'
  | 'bad-signature'
  | 'bad-padding';

/** Why a key or token was refused; `reason` is stable for programs, the message is for people. */
export class FernetError extends Error {
  readonly reason: FernetFailure;
  constructor(reason: FernetFailure, message: string) {
    super(message);
    this.name = 'FernetError';
    this.reason = reason;
  }
}

export interface FernetKey {
  signingKey: Buffer;
  encryptionKey: Buffer;
}

export interface EncryptOptions {
  /** The token's timestamp; now by default. */
  now?: Date;
  /** Only for reproducing the spec's vectors: a fixed IV. Never pass one otherwise. */
  iv?: Uint8Array;
}

export interface DecryptOptions {
  /** Refuse tokens older than this many seconds; no age limit when absent. */
  ttlSeconds?: number;
  now?: Date;
}

/** A new random key, in the text form every Fernet implementation reads. */
export function generateFernetKey(): string {
  return encodeBase64Url(randomBytes(32));
}

export function parseFernetKey(text: string): FernetKey {
  const bytes = decodeBase64Url(text.trim());
  if (bytes?.length !== 32) {
    throw new FernetError(
      'invalid-key',
      'the Fernet key must be 32 bytes in URL-safe base64 (44 characters ending in "="); ' +
        'make one with `npm run clawbot -- fernet generate-key`',
    );
  }
  return { signingKey: bytes.subarray(0, 16), encryptionKey: bytes.subarray(16) };
}

export function encryptFernet(
  key: string | FernetKey,
  plaintext: string | Uint8Array,
  options: EncryptOptions = {},
): string {
  const { signingKey, encryptionKey } = typeof key === 'string' ? parseFernetKey(key) : key;
  const iv = options.iv ?? randomBytes(IV_BYTES);
  if (iv.length !== IV_BYTES) throw new RangeError(`the IV must be ${IV_BYTES} bytes`);

  const header = Buffer.alloc(HEADER_BYTES);
  header[0] = VERSION;
  header.writeBigUInt64BE(BigInt(Math.floor((options.now ?? new Date()).getTime() / 1000)), 1);
  header.set(iv, 9);
  const cipher = createCipheriv('aes-128-cbc', encryptionKey, iv);
  const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  const signed = Buffer.concat([header, cipher.update(data), cipher.final()]);
  const mac = createHmac('sha256', signingKey).update(signed).digest();
  return encodeBase64Url(Buffer.concat([signed, mac]));
}

/**
 * Checks, in the spec's order, the token's form, version, age and timestamp, then its HMAC in
 * constant time, and only then decrypts: nothing unauthenticated ever reaches AES.
 */
export function decryptFernet(
  key: string | FernetKey,
  token: string,
  options: DecryptOptions = {},
): Buffer {
  const { signingKey, encryptionKey } = typeof key === 'string' ? parseFernetKey(key) : key;
  const bytes = decodeBase64Url(token.trim());
  if (bytes === undefined) {
    throw new FernetError(
      'malformed',
      'the token is not URL-safe base64: it was probably cut or changed while copying',
    );
  }
  const cipherBytes = bytes.length - HEADER_BYTES - MAC_BYTES;
  if (cipherBytes < BLOCK_BYTES) {
    throw new FernetError(
      'malformed',
      `the token is too short (${bytes.length} bytes) to be Fernet`,
    );
  }
  if (cipherBytes % BLOCK_BYTES !== 0) {
    throw new FernetError(
      'malformed',
      "the token's ciphertext is not a whole number of AES blocks: the token was cut or changed",
    );
  }
  if (bytes[0] !== VERSION) {
    throw new FernetError(
      'unsupported-version',
      `the token has version 0x${bytes[0]!.toString(16)}, but only Fernet version 0x80 exists`,
    );
  }

  const issuedAt = Number(bytes.readBigUInt64BE(1));
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (issuedAt > now + FERNET_MAX_CLOCK_SKEW_SECONDS) {
    throw new FernetError(
      'from-the-future',
      `the token was made at ${isoSeconds(issuedAt)}, later than this machine's clock allows ` +
        `(${isoSeconds(now)}): check that both clocks are synchronised (NTP)`,
    );
  }
  if (options.ttlSeconds !== undefined && issuedAt + options.ttlSeconds < now) {
    throw new FernetError(
      'expired',
      `the token expired at ${isoSeconds(issuedAt + options.ttlSeconds)} ` +
        `(made at ${isoSeconds(issuedAt)}, valid for ${options.ttlSeconds} s): ask for a new one`,
    );
  }

  const signed = bytes.subarray(0, bytes.length - MAC_BYTES);
  const expected = createHmac('sha256', signingKey).update(signed).digest();
  if (!timingSafeEqual(expected, bytes.subarray(bytes.length - MAC_BYTES))) {
    throw new FernetError(
      'bad-signature',
      "the token's signature does not match: it was made with a different key, or altered",
    );
  }

  const decipher = createDecipheriv('aes-128-cbc', encryptionKey, signed.subarray(9, HEADER_BYTES));
  try {
    return Buffer.concat([decipher.update(signed.subarray(HEADER_BYTES)), decipher.final()]);
  } catch {
    // Only reachable with a correct signature: the token's maker encrypted it wrongly.
    throw new FernetError(
      'bad-padding',
      'the token is signed correctly but its content does not decrypt (bad padding): ' +
        'whoever made it used a faulty Fernet implementation',
    );
  }
}

// Padded, as the spec's tokens and keys are (Python's urlsafe_b64encode).
function encodeBase64Url(bytes: Buffer): string {
  return bytes.toString('base64').replaceAll('+', '-').replaceAll('/', '_');
}

// Strict URL-safe base64: Buffer.from(…, 'base64url') skips characters it does not know, which
// would let a corrupted token through to the MAC check with a misleading error.
function decodeBase64Url(text: string): Buffer | undefined {
  const match = /^([A-Za-z0-9_-]*)(=*)$/.exec(text);
  if (!match) return undefined;
  const [, body, pad] = match as unknown as [string, string, string];
  if (body.length % 4 === 1) return undefined;
  if (pad.length > 0 && (body.length + pad.length) % 4 !== 0) return undefined;
  const bytes = Buffer.from(body, 'base64url');
  // Non-zero leftover bits mean the text was not produced by an encoder.
  return bytes.toString('base64url') === body ? bytes : undefined;
}

function isoSeconds(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z');
}
