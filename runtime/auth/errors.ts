// Every refusal the authentication layer answers with, in one place so the wording stays
// consistent. Each says what is wrong and what to do next; none repeats a key or a token.
// The `code` of each doubles as the audit log's and the metric's `outcome`.

import { HttpError } from '../http-errors.ts';

const bearer = (error: string) => ({
  'WWW-Authenticate': `Bearer realm="clawbot", error="${error}"`,
});
const iso = (ms: number) => new Date(ms).toISOString();
const GET_TOKEN = 'get a new one by POSTing {"api_key": "..."} to /api/auth';

export const authErrors = {
  missingCredentials: () =>
    new HttpError(
      401,
      'no credentials: send "Authorization: Bearer <token>" with a token from POST /api/auth',
      { code: 'missing_credentials', headers: { 'WWW-Authenticate': 'Bearer realm="clawbot"' } },
    ),
  badAuthorizationHeader: () =>
    new HttpError(401, 'the Authorization header must read "Bearer <token>"', {
      code: 'invalid_authorization_header',
      headers: bearer('invalid_request'),
    }),
  apiKeyNotAccepted: () =>
    new HttpError(
      401,
      'this endpoint takes a token, not an API key: exchange the key for a token by POSTing ' +
        '{"api_key": "..."} to /api/auth',
      { code: 'api_key_not_accepted', headers: bearer('invalid_token') },
    ),
  malformedKey: (why: string) =>
    new HttpError(401, why, { code: 'malformed_api_key', headers: bearer('invalid_token') }),
  unknownKey: (keyId: string | undefined) =>
    new HttpError(
      401,
      `the API key${keyId ? ` (key id ${keyId})` : ''} is not known to this ChatBot: check that ` +
        "you use the current api-key from the ApiKey's Secret, for this ChatBot",
      { code: 'invalid_api_key', headers: bearer('invalid_token') },
    ),
  revokedKey: (keyId: string, apiKeyName: string) =>
    new HttpError(
      401,
      `the API key ${keyId} (ApiKey ${apiKeyName}) has been revoked; ask the ChatBot's administrator ` +
        'for a new key',
      { code: 'revoked_api_key', headers: bearer('invalid_token') },
    ),
  expiredKey: (keyId: string, notAfter: number) =>
    new HttpError(
      401,
      `the API key ${keyId} expired at ${iso(notAfter)}; the current key is in the ApiKey's ` +
        'Secret (api-key)',
      { code: 'expired_api_key', headers: bearer('invalid_token') },
    ),
  retiredKey: (keyId: string, retiredAt: number) =>
    new HttpError(
      401,
      `the API key ${keyId} was rotated out and stopped working at ${iso(retiredAt)}; ` +
        'the current key is in the consumer Secret (api-key)',
      { code: 'retired_api_key', headers: bearer('invalid_token') },
    ),
  keyNotYetValid: (keyId: string, notBefore: number) =>
    new HttpError(
      401,
      `the API key ${keyId} is valid only from ${iso(notBefore)}; if that time has passed, ` +
        "this server's clock is behind: check its clock synchronisation (NTP)",
      { code: 'api_key_not_yet_valid', headers: bearer('invalid_token') },
    ),
  invalidToken: (why: string) =>
    new HttpError(401, `invalid token: ${why}; ${GET_TOKEN}`, {
      code: 'invalid_token',
      headers: bearer('invalid_token'),
    }),
  expiredToken: (expiredAt: number) =>
    new HttpError(401, `the token expired at ${iso(expiredAt)}; ${GET_TOKEN}`, {
      code: 'expired_token',
      headers: bearer('invalid_token'),
    }),
  tokenNotYetValid: (validFrom: number, now: number) =>
    new HttpError(
      401,
      `the token is valid only from ${iso(validFrom)}, but this server's clock reads ` +
        `${iso(now)}: the replica that issued it and this one disagree about the time; ` +
        'check their clock synchronisation (NTP)',
      { code: 'token_not_yet_valid', headers: bearer('invalid_token') },
    ),
  missingScope: (scope: string, granted: readonly string[]) =>
    new HttpError(
      403,
      `this endpoint needs the scope "${scope}", which this key does not have ` +
        `(it has: ${granted.join(', ') || 'none'}); add it to the ApiKey's spec.scopes`,
      { code: 'missing_scope', param: scope, headers: bearer('insufficient_scope') },
    ),
  rateLimited: (keyId: string, perMinute: number, retryAfterSeconds: number) =>
    new HttpError(
      429,
      `the API key ${keyId} is limited to ${perMinute} requests per minute; retry in ` +
        `${retryAfterSeconds} s`,
      { code: 'rate_limit_exceeded', headers: { 'Retry-After': String(retryAfterSeconds) } },
    ),
  noSigningKey: () =>
    new HttpError(
      503,
      'no token signing key is usable right now (none has started, or all are retired); ' +
        "the ChatBot's signing-keys.json needs a current key",
      { code: 'no_signing_key' },
    ),
  bodyNotJson: () =>
    new HttpError(400, 'send a JSON body {"api_key": "..."} with Content-Type: application/json', {
      code: 'invalid_json',
    }),
  missingApiKeyField: () =>
    new HttpError(400, 'the JSON body needs "api_key": the API key to exchange for a token', {
      code: 'missing_parameter',
      param: 'api_key',
    }),
  apiKeyFieldNotString: () =>
    new HttpError(400, '"api_key" must be a string: the API key, as in the ApiKey\'s Secret', {
      code: 'invalid_type',
      param: 'api_key',
    }),
};
