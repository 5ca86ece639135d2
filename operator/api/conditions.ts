// The status.conditions schema shared by every ClawBot resource: metav1.Condition, listed by type.

import { array, integer, object, string, type Schema } from './schema.ts';

export function conditionsSchema(description: string): Schema {
  const condition = object(
    'Condition',
    'One aspect of the current state (metav1.Condition).',
    {
      type: string('Which aspect this is, e.g. Ready.', { maxLength: 316 }),
      status: string('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
      observedGeneration: integer('The spec generation the condition was computed from.', {
        minimum: 0,
      }),
      lastTransitionTime: string('When status last changed.', { format: 'date-time' }),
      reason: string('A CamelCase word for programs.', { maxLength: 1024 }),
      message: string('What a person should know, and do.', { maxLength: 32768 }),
    },
    { required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'] },
  );
  return array(description, condition, {
    maxItems: 16,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  });
}
