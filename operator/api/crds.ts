// The CustomResourceDefinitions, assembled from the schemas. `npm run generate` writes them to
// crds/ and the Helm chart; never edit those YAML files by hand.

import { apiKeySpec, apiKeyStatus } from './apikey.ts';
import { chatBotSpec, chatBotStatus } from './chatbot.ts';
import { toCrdSchema, type Schema } from './schema.ts';

export const group = 'clawbot.dev';
export const version = 'v1alpha1';
export const apiVersion = `${group}/${version}`;

interface Column {
  name: string;
  type: 'string' | 'integer' | 'date';
  jsonPath: string;
  description: string;
  priority?: number;
}

interface Kind {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: Schema;
  status: Schema;
  columns: Column[];
}

const readyColumn: Column = {
  name: 'Ready',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
  description: 'Whether the resource is ready.',
};
const ageColumn: Column = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
  description: 'Time since creation.',
};

export const kinds: Kind[] = [
  {
    kind: 'ChatBot',
    plural: 'chatbots',
    singular: 'chatbot',
    shortNames: ['cb'],
    description:
      'A chat service: the ONNX inference runtime on GPU or CPU nodes, with storage for the ' +
      'model and conversation logs, a Service, autoscaling and token authentication.',
    spec: chatBotSpec,
    status: chatBotStatus,
    columns: [
      readyColumn,
      {
        name: 'Replicas',
        type: 'integer',
        jsonPath: '.status.readyReplicas',
        description: 'Ready replicas.',
      },
      {
        name: 'GPU',
        type: 'integer',
        jsonPath: '.spec.resources.gpu',
        description: 'GPUs per replica.',
      },
      {
        name: 'Endpoint',
        type: 'string',
        jsonPath: '.status.endpoint',
        description: 'Chat API address.',
      },
      ageColumn,
      {
        name: 'Reason',
        type: 'string',
        jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
        description: 'Why it is (not) ready.',
        priority: 1,
      },
    ],
  },
  {
    kind: 'ApiKey',
    plural: 'apikeys',
    singular: 'apikey',
    shortNames: ['ak'],
    description:
      'A client API key for a ChatBot, issued into a Secret and rotated automatically with a ' +
      'grace period in which the previous key still works.',
    spec: apiKeySpec,
    status: apiKeyStatus,
    columns: [
      {
        name: 'ChatBot',
        type: 'string',
        jsonPath: '.spec.chatBotRef.name',
        description: 'Target ChatBot.',
        priority: 1,
      },
      {
        name: 'Key ID',
        type: 'string',
        jsonPath: '.status.currentKeyId',
        description: 'Current key id.',
      },
      {
        name: 'Expires',
        type: 'string',
        jsonPath: '.status.expiresAt',
        description: 'Current key expiry.',
      },
      readyColumn,
      ageColumn,
    ],
  },
];

export function customResourceDefinition(k: Kind): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${k.plural}.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: {
        kind: k.kind,
        listKind: `${k.kind}List`,
        plural: k.plural,
        singular: k.singular,
        shortNames: k.shortNames,
        categories: ['clawbot'],
      },
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: k.columns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: k.description,
              properties: {
                apiVersion: { type: 'string', description: 'API version: clawbot.dev/v1alpha1.' },
                kind: { type: 'string', description: `Kind: ${k.kind}.` },
                metadata: { type: 'object' },
                spec: toCrdSchema(k.spec),
                status: toCrdSchema(k.status),
              },
              required: ['spec'],
            },
          },
        },
      ],
    },
  };
}
