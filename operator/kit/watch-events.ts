// A watch response is a stream of JSON objects, one per line: {"type": ..., "object": ...}.

import type { KubernetesObject } from '@kubernetes/client-node';

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  /** For ERROR, a Status object ({ code, reason, message }). */
  object: T;
}

export interface WatchStatus extends KubernetesObject {
  code?: number;
  reason?: string;
  message?: string;
}

/** The events of a watch stream as they arrive. A line that is not JSON ends it with an error. */
export async function* watchEvents<T>(
  stream: AsyncIterable<Uint8Array>,
): AsyncGenerator<WatchEvent<T | WatchStatus>> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) yield parse(line);
    }
  }
  const rest = (buffered + decoder.decode()).trim();
  if (rest) yield parse(rest);
}

function parse<T>(line: string): WatchEvent<T> {
  try {
    return JSON.parse(line) as WatchEvent<T>;
  } catch {
    throw new Error(`the watch stream sent a line that is not JSON: ${line.slice(0, 200)}`);
  }
}
