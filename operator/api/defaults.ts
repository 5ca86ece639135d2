// Structural defaulting as the API server does it: a missing field with a default gets it, then
// its own fields are defaulted in turn. Lets unit tests build ChatBots exactly as stored.

import type { Schema } from './schema.ts';

export function withDefaults<T>(schema: Schema, value: T): T {
  if (schema.type === 'object' && schema.properties && isPlainObject(value)) {
    const out: Record<string, unknown> = { ...value };
    for (const [key, field] of Object.entries(schema.properties)) {
      if (out[key] === undefined && field.default !== undefined) {
        out[key] = structuredClone(field.default);
      }
      if (out[key] !== undefined) out[key] = withDefaults(field, out[key]);
    }
    return out as T;
  }
  if (schema.type === 'array' && schema.items && Array.isArray(value)) {
    return value.map((item: unknown) => withDefaults(schema.items!, item)) as T;
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
