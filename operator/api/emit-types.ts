// Turns the CRD schemas into TypeScript interfaces. A field is required in the type when the API
// server guarantees it: listed in `required`, or filled in by a `default`.

import type { Schema } from './schema.ts';

interface Emitted {
  interfaces: Map<string, string>;
  imports: Map<string, Set<string>>;
}

function docComment(text: string, indent: string): string {
  if (!text) return '';
  return `${indent}/** ${text.replace(/\*\//g, '*\\/')} */\n`;
}

function typeOf(schema: Schema, out: Emitted): string {
  if (schema.tsType) {
    const names = out.imports.get(schema.tsType.from) ?? new Set<string>();
    names.add(schema.tsType.name);
    out.imports.set(schema.tsType.from, names);
    return schema.tsType.name;
  }
  if (schema['x-kubernetes-int-or-string']) return 'number | string';
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  switch (schema.type) {
    case 'string':
      return 'string';
    case 'integer':
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'array': {
      const item = typeOf(schema.items!, out);
      return item.includes('|') ? `Array<${item}>` : `${item}[]`;
    }
    case 'object':
      if (schema.properties) return emitInterface(schema, out);
      if (schema.additionalProperties) {
        return `Record<string, ${typeOf(schema.additionalProperties, out)}>`;
      }
      return 'Record<string, unknown>';
    default:
      throw new Error(`schema "${schema.description}" has no type`);
  }
}

function emitInterface(schema: Schema, out: Emitted): string {
  const name = schema.tsName;
  if (!name) throw new Error(`object schema "${schema.description}" needs a tsName`);
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties ?? {}).map(([key, field]) => {
    const optional = !required.has(key) && field.default === undefined;
    return `${docComment(field.description, '  ')}  ${key}${optional ? '?' : ''}: ${typeOf(field, out)};`;
  });
  const text = `${docComment(schema.description, '')}export interface ${name} {\n${fields.join('\n')}\n}`;
  const previous = out.interfaces.get(name);
  if (previous !== undefined && previous !== text) {
    throw new Error(`two different schemas are both named ${name}`);
  }
  out.interfaces.set(name, text);
  return name;
}

export interface Resource {
  kind: string;
  apiVersion: string;
  spec: Schema;
  status: Schema;
}

export function emitTypes(resources: Resource[], header: string): string {
  const out: Emitted = { interfaces: new Map(), imports: new Map() };
  const roots = resources.map((r) => {
    const spec = emitInterface(r.spec, out);
    const status = emitInterface(r.status, out);
    return (
      `export interface ${r.kind} {\n  apiVersion: '${r.apiVersion}';\n  kind: '${r.kind}';\n` +
      `  metadata: V1ObjectMeta;\n  spec: ${spec};\n  status?: ${status};\n}`
    );
  });
  const clientNode = out.imports.get('@kubernetes/client-node') ?? new Set<string>();
  clientNode.add('V1ObjectMeta');
  out.imports.set('@kubernetes/client-node', clientNode);
  const imports = [...out.imports].map(
    ([from, names]) => `import type { ${[...names].sort().join(', ')} } from '${from}';`,
  );
  return [header, imports.join('\n'), ...roots, ...out.interfaces.values()].join('\n\n') + '\n';
}
