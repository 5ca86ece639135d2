// The ApiKey API: a client key for one ChatBot that the operator issues, delivers in a Secret,
// and rotates by itself (a second key stays valid during each switch).

import { runtimeSettings } from '../../common/runtime-env.ts';
import { conditionsSchema } from './conditions.ts';
import {
  array,
  boolean,
  duration,
  integer,
  isDuration,
  object,
  string,
  type Schema,
} from './schema.ts';

// Cross-field duration rules only judge well-formed values; each field's own rule reports the rest.
const durations = (...exprs: string[]) => exprs.map(isDuration).join(' && ');

const dnsName = {
  maxLength: 253,
  'x-kubernetes-validations': [
    {
      rule: 'self.matches("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")',
      message:
        'must be a Kubernetes object name: lowercase letters, digits, "-" and ".", ' +
        'starting and ending with a letter or digit',
    },
  ],
};

const immutable = (field: string) => ({
  rule: 'self == oldSelf',
  message: `${field} cannot change; create a new ApiKey instead`,
});

export const apiKeySpec: Schema = object(
  'ApiKeySpec',
  'Desired state of a client API key.',
  {
    chatBotRef: object(
      'ChatBotReference',
      'The ChatBot (in the same namespace) this key opens.',
      { name: string('Name of the ChatBot.', dnsName) },
      { required: ['name'], 'x-kubernetes-validations': [immutable('chatBotRef')] },
    ),
    scopes: array(
      'What the key may do: chat (the chat routes) and models (listing models).',
      string('A scope.', { enum: ['chat', 'models'] }),
      { default: ['chat', 'models'], minItems: 1, maxItems: 8, 'x-kubernetes-list-type': 'set' },
    ),
    secretName: string(
      'The Secret (created by the operator, in the same namespace) that delivers the key: ' +
        "api-key, api-key-id, and previous-api-key while a rotation's grace period runs.",
      {
        ...dnsName,
        'x-kubernetes-validations': [
          ...dnsName['x-kubernetes-validations'],
          immutable('secretName'),
        ],
      },
    ),
    validity: duration('How long each key is valid: at most 2160h (90 days).', {
      default: '2160h',
      'x-kubernetes-validations': [
        {
          rule: 'duration(self) <= duration("2160h")',
          message: 'validity can be at most 2160h (90 days): keys must rotate at least quarterly',
        },
      ],
    }),
    rotation: object(
      'RotationSpec',
      'When keys are replaced.',
      {
        renewBefore: duration('Issue the next key this long before the current one expires.', {
          default: '360h',
        }),
        gracePeriod: duration(
          'After a rotation the previous key keeps working this long, so clients can switch. ' +
            "Must be longer than the ChatBot's token TTL, so tokens issued just before a " +
            'rotation live out their lifetime.',
          { default: '48h' },
        ),
      },
      { default: {} },
    ),
    rateLimit: object(
      'RateLimitSpec',
      'Per-key request limit; above it clients get 429 with Retry-After and an alert can fire.',
      {
        requestsPerMinute: integer(
          'Requests per minute one key may make. Each runtime replica enforces it on the requests ' +
            'it serves (429 with Retry-After beyond it); the alert rule sums across replicas.',
          {
            default: runtimeSettings.rateLimitRpm.default,
            minimum: 1,
            maximum: 10000000,
          },
        ),
      },
      { default: {} },
    ),
    revoked: boolean(
      'true: every key of this ApiKey stops working at once. Setting it back to false issues a new key.',
      { default: false },
    ),
    delivery: object('DeliverySpec', 'How the key is written into the consumer Secret.', {
      fernetKeySecretRef: object(
        'FernetKeyReference',
        'Encrypt the delivered key with Fernet under the key in this Secret (same namespace), so ' +
          'the consumer Secret holds ciphertext only. Decrypt with `npm run clawbot -- fernet decrypt`.',
        {
          name: string('Name of the Secret holding the Fernet key.', dnsName),
          key: string('Key in that Secret.', { default: 'fernet-key', maxLength: 253 }),
        },
        { required: ['name'] },
      ),
    }),
  },
  {
    required: ['chatBotRef', 'secretName'],
    'x-kubernetes-validations': [
      {
        rule:
          `!(${durations('self.rotation.gracePeriod', 'self.validity')}) || ` +
          'duration(self.rotation.gracePeriod) <= duration(self.validity)',
        message: 'rotation.gracePeriod cannot be longer than validity',
        fieldPath: '.rotation.gracePeriod',
      },
      {
        rule:
          `!(${durations('self.rotation.renewBefore', 'self.validity')}) || ` +
          'duration(self.rotation.renewBefore) < duration(self.validity)',
        message:
          'rotation.renewBefore must be shorter than validity, or every key would rotate at once',
        fieldPath: '.rotation.renewBefore',
      },
    ],
  },
);

const keyStatus = object(
  'KeyStatus',
  'One issued key (never the key itself).',
  {
    keyId: string('The non-secret key id (also inside the key).'),
    state: string('Active (current), Retiring (previous, until retireAfter) or Revoked.', {
      enum: ['Active', 'Retiring', 'Revoked'],
    }),
    notBefore: string('Valid from.', { format: 'date-time' }),
    notAfter: string('Valid until.', { format: 'date-time' }),
    retireAfter: string('A Retiring key stops working at this time.', { format: 'date-time' }),
  },
  { required: ['keyId', 'state', 'notBefore', 'notAfter'] },
);

export const apiKeyStatus: Schema = object(
  'ApiKeyStatus',
  'Observed state, written by the operator.',
  {
    observedGeneration: integer('The spec generation this status describes.'),
    conditions: conditionsSchema(
      'Ready (a valid key is delivered) and Rotating (a switch is under way).',
    ),
    currentKeyId: string("Id of the key in the consumer Secret's api-key."),
    revision: integer('Counts issued keys: 1 for the first, +1 per rotation.'),
    expiresAt: string('When the current key expires.', { format: 'date-time' }),
    renewalTime: string('When the next rotation is due.', { format: 'date-time' }),
    observedRotateRequest: string(
      'The last value of the clawbot.dev/rotate annotation that was acted on.',
    ),
    keys: array('Keys that still work or were revoked.', keyStatus, {
      maxItems: 16,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['keyId'],
    }),
  },
);
