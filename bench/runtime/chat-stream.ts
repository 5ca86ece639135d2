// One streamed chat (POST /api/chat with "stream": true) as a client sees it: when each `delta`
// event arrives and when `done` does. Events that arrive in one read share its arrival time, as
// they do for any client.
import { Agent, request } from 'node:http';
import type { ChatMessage } from '../../runtime/engine/types.ts';

export interface StreamedChat {
  promptTokens: number;
  completionTokens: number;
  text: string;
  /** Milliseconds from sending the request to each delta event. */
  deltaMs: number[];
  /** Milliseconds from sending the request to the done event. */
  doneMs: number;
}

/** One connection per concurrent stream, kept open between a stream's requests. */
export const streamAgent = new Agent({ keepAlive: true, maxSockets: Infinity });

export function streamChat(
  baseUrl: string,
  token: string,
  messages: ChatMessage[],
  maxTokens: number,
): Promise<StreamedChat> {
  const body = JSON.stringify({ messages, max_tokens: maxTokens, temperature: 0, stream: true });
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const deltaMs: number[] = [];
    let pending = '';
    const req = request(
      `${baseUrl}/api/chat`,
      {
        method: 'POST',
        agent: streamAgent,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.setEncoding('utf8');
        if (res.statusCode !== 200) {
          let text = '';
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => reject(new Error(`POST /api/chat: HTTP ${res.statusCode} ${text}`)));
          return;
        }
        res.on('data', (chunk: string) => {
          const now = performance.now() - started;
          pending += chunk;
          let end: number;
          while ((end = pending.indexOf('\n\n')) >= 0) {
            const event = parseEvent(pending.slice(0, end));
            pending = pending.slice(end + 2);
            if (event?.name === 'delta') deltaMs.push(now);
            else if (event?.name === 'done') {
              const done = event.data as {
                message: { content: string };
                usage: { prompt_tokens: number; completion_tokens: number };
              };
              resolve({
                promptTokens: done.usage.prompt_tokens,
                completionTokens: done.usage.completion_tokens,
                text: done.message.content,
                deltaMs,
                doneMs: now,
              });
            } else if (event?.name === 'error') {
              reject(new Error(`stream error: ${JSON.stringify(event.data)}`));
            }
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** `event: <name>` and one `data: <json>` line; keep-alive comments give undefined. */
function parseEvent(block: string): { name: string; data: unknown } | undefined {
  let name: string | undefined;
  let data: string | undefined;
  for (const line of block.split('\n')) {
    if (line.startsWith('event: ')) name = line.slice(7);
    else if (line.startsWith('data: ')) data = line.slice(6);
  }
  return name === undefined || data === undefined ? undefined : { name, data: JSON.parse(data) };
}
