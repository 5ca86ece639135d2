// A small vocabulary for writing CRD schemas in TypeScript. The CRD manifests in crds/ and the
// TypeScript types in operator/api/types.generated.ts are both generated from schemas written with
// it (`npm run generate`), so the API server's validation and the operator's types cannot drift.

export interface Validation {
  /** A CEL expression; `self` is the value of the field the rule sits on. */
  rule: string;
  /** Shown to the user when the rule fails: say what is wrong and how to fix it. */
  message: string;
  /** Which field the message points at, relative to the rule's field (e.g. ".maxReplicas"). */
  fieldPath?: string;
}

export interface Schema {
  type?: 'object' | 'string' | 'integer' | 'boolean' | 'array' | 'number';
  description: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema;
  enum?: string[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  anyOf?: Array<{ type: 'integer' | 'string' }>;
  'x-kubernetes-int-or-string'?: true;
  'x-kubernetes-preserve-unknown-fields'?: true;
  'x-kubernetes-validations'?: Validation[];
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  /** Name of the TypeScript interface generated for this object (not part of the CRD). */
  tsName?: string;
  /** A TypeScript type to use as is, e.g. a client-node model (not part of the CRD). */
  tsType?: { name: string; from: string };
}

type Extra = Omit<Schema, 'type' | 'description'>;

export const string = (description: string, extra: Extra = {}): Schema => ({
  type: 'string',
  description,
  ...extra,
});

export const integer = (description: string, extra: Extra = {}): Schema => ({
  type: 'integer',
  description,
  ...extra,
});

export const boolean = (description: string, extra: Extra = {}): Schema => ({
  type: 'boolean',
  description,
  ...extra,
});

export const array = (description: string, items: Schema, extra: Extra = {}): Schema => ({
  type: 'array',
  description,
  items,
  ...extra,
});

export const stringMap = (description: string, extra: Extra = {}): Schema => ({
  type: 'object',
  description,
  additionalProperties: { type: 'string', description: '' },
  ...extra,
});

export const object = (
  tsName: string,
  description: string,
  properties: Record<string, Schema>,
  extra: Extra = {},
): Schema => ({ type: 'object', description, properties, tsName, ...extra });

/**
 * A Kubernetes quantity ("2", "500m", "4Gi"), checked by the API server's own parser. Like
 * resource quantities in Pods it is an integer or a string: write fractions as "1.5" or "1500m".
 */
export const quantity = (description: string, extra: Extra = {}): Schema => ({
  description,
  anyOf: [{ type: 'integer' }, { type: 'string' }],
  'x-kubernetes-int-or-string': true,
  ...extra,
  'x-kubernetes-validations': [
    {
      rule: 'isQuantity(string(self))',
      message: 'must be a Kubernetes quantity such as "2", "500m", "4Gi" or "100Gi"',
    },
    ...(extra['x-kubernetes-validations'] ?? []),
  ],
});

/** A Go duration string ("24h", "90m", "1h30m"), the format of every time span in the API. */
/** CEL: `expr` (a string) is a duration that `duration()` can convert. */
export const isDuration = (expr: string) =>
  `${expr}.matches("^([0-9]+(\\\\.[0-9]+)?(h|m|s|ms))+$")`;

export const duration = (description: string, extra: Extra = {}): Schema => {
  const wellFormed = isDuration('self');
  return {
    type: 'string',
    description,
    maxLength: 32,
    ...extra,
    'x-kubernetes-validations': [
      {
        rule: `${wellFormed} && duration(self) > duration("0s")`,
        message: 'must be a positive duration such as "24h", "90m" or "1h30m" (units: h, m, s, ms)',
      },
      // Further rules only judge well-formed values; the rule above already reports the others.
      ...(extra['x-kubernetes-validations'] ?? []).map((v) => ({
        ...v,
        rule: `!(${wellFormed}) || (${v.rule})`,
      })),
    ],
  };
};

/** The CRD form of a schema: TypeScript-only annotations removed. */
export function toCrdSchema(schema: Schema): Record<string, unknown> {
  const { tsName: _n, tsType: _t, properties, items, additionalProperties, ...rest } = schema;
  const out: Record<string, unknown> = { ...rest };
  if (properties) {
    out.properties = Object.fromEntries(
      Object.entries(properties).map(([k, v]) => [k, toCrdSchema(v)]),
    );
  }
  if (items) out.items = toCrdSchema(items);
  if (additionalProperties) out.additionalProperties = toCrdSchema(additionalProperties);
  if (out.description === '') delete out.description;
  return out;
}
