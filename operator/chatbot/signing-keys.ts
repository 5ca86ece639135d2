// The token signing keys of a ChatBot, rotated on a schedule without ever invalidating a token:
// a new key is announced ahead of use (every replica has loaded it before any replica signs with
// it), and the previous key keeps verifying until the last token it signed has expired.

import {
  generatePepper,
  generateSigningKey,
  type SigningKey,
  type SigningKeysFile,
} from '../../common/runtime-secrets.ts';

/** Mounted Secrets reach running pods within about 60–90 s (kubelet sync); wait a bit longer. */
export const propagationDelayMs = 2 * 60_000;
/** The runtime accepts tokens up to this much past their expiry (clock skew between nodes). */
export const clockToleranceMs = 60_000;

export interface SigningKeysPlan {
  /** The file content to write, or undefined when the current one stands. */
  next?: SigningKeysFile;
  /** When the plan changes next (a due rotation or a retirement); reconcile then. */
  revisitAt: Date;
}

export function planSigningKeys(
  current: SigningKeysFile | undefined,
  now: Date,
  rotationIntervalMs: number,
  tokenTtlMs: number,
): SigningKeysPlan {
  if (!current?.keys.length) {
    // Nothing can hold a token yet, so the first key may sign at once.
    const key = generateSigningKey(now);
    return { next: { keys: [key] }, revisitAt: new Date(now.getTime() + rotationIntervalMs) };
  }
  const t = now.getTime();
  let keys = current.keys.filter(
    (k) => k.retireAfter === undefined || Date.parse(k.retireAfter) > t,
  );
  let changed = keys.length !== current.keys.length;

  const newest = keys.reduce<SigningKey | undefined>(
    (a, k) => (!a || Date.parse(k.createdAt) > Date.parse(a.createdAt) ? k : a),
    undefined,
  );
  if (!newest) {
    // Every key had retired (the operator was down for long): start over like a new ChatBot.
    return planSigningKeys(undefined, now, rotationIntervalMs, tokenTtlMs);
  }
  if (Date.parse(newest.createdAt) + rotationIntervalMs <= t) {
    const successor = generateSigningKey(new Date(t + propagationDelayMs));
    // Tokens the old key signs until the successor takes over expire a TTL later.
    const retireAfter = new Date(Date.parse(successor.createdAt) + tokenTtlMs + clockToleranceMs);
    keys = keys.map((k) =>
      k.retireAfter === undefined ? { ...k, retireAfter: retireAfter.toISOString() } : k,
    );
    keys.push(successor);
    changed = true;
  }
  const signer = keys.reduce((a, k) => (Date.parse(k.createdAt) > Date.parse(a.createdAt) ? k : a));
  const moments = [
    Date.parse(signer.createdAt) + rotationIntervalMs,
    ...keys.flatMap((k) => (k.retireAfter ? [Date.parse(k.retireAfter)] : [])),
  ].filter((m) => m > t);
  return {
    next: changed ? { keys } : undefined,
    revisitAt: new Date(Math.min(...moments)),
  };
}

/** The pepper is made once: changing it would invalidate every stored API-key hash. */
export const pepperFor = (current: string | undefined): string => current ?? generatePepper();
