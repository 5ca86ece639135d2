// A small keep-alive HTTP/1.1 load generator for benchmarks against servers on this machine.
// Each connection sends one pre-serialised request, waits for the whole response, and sends
// the next (closed loop), so throughput and latency come from the same requests. Raw sockets
// and a Content-Length-only response parser keep the client cheap: on 2 cores a heavier client
// (fetch, http.request) would cap the figures it is meant to measure.

import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface LoadSpec {
  /** e.g. http://127.0.0.1:8080 (loopback only) */
  url: string;
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** The status every response must have; others count as errors. */
  expectStatus: number;
  connections: number;
  /** The run stops after this long or this many requests, whichever comes first. */
  durationMs: number;
  maxRequests: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  /** Sorted ascending. */
  latenciesMs: Float64Array;
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const target = new URL(spec.url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(target.hostname)) {
    throw new Error(`load is only sent to this machine, not to ${target.hostname}`);
  }
  const request = serialise(spec, target.host);
  const latencies = new Float64Array(spec.maxRequests);
  let sent = 0;
  let done = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + spec.durationMs;

  const connection = () =>
    new Promise<void>((resolve, reject) => {
      const socket: Socket = connect(Number(target.port), target.hostname.replace(/^\[|\]$/g, ''));
      socket.setNoDelay(true);
      let buffer: Buffer = Buffer.alloc(0);
      let sentAt = 0;
      const next = () => {
        if (sent >= spec.maxRequests || performance.now() >= deadline) {
          socket.end();
          resolve();
          return;
        }
        sent++;
        sentAt = performance.now();
        socket.write(request);
      };
      socket.on('connect', next);
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
        try {
          for (
            let response = completeResponse(buffer);
            response;
            response = completeResponse(buffer)
          ) {
            latencies[done++] = performance.now() - sentAt;
            if (response.status !== spec.expectStatus) errors++;
            buffer = buffer.subarray(response.length);
            next();
          }
        } catch (error) {
          socket.destroy();
          reject(error);
        }
      });
    });

  await Promise.all(Array.from({ length: spec.connections }, connection));
  const seconds = (performance.now() - started) / 1000;
  return { requests: done, errors, seconds, latenciesMs: latencies.slice(0, done).sort() };
}

/** The latency below which `fraction` of requests completed (nearest rank). */
export function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

function serialise(spec: LoadSpec, host: string): Buffer {
  const body = spec.body === undefined ? undefined : Buffer.from(spec.body);
  const headers: Record<string, string> = { Host: host, Connection: 'keep-alive', ...spec.headers };
  if (body) headers['Content-Length'] = String(body.length);
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return Buffer.concat([
    Buffer.from(`${spec.method} ${spec.path} HTTP/1.1\r\n${head}\r\n`),
    body ?? Buffer.alloc(0),
  ]);
}

// Express answers with Content-Length (no chunked encoding for res.json/res.send), which is
// all this parser understands; anything else is a benchmark set-up error and stops the run.
function completeResponse(buffer: Buffer): { status: number; length: number } | undefined {
  const end = buffer.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = buffer.subarray(0, end).toString('latin1');
  const lengthHeader = /\r\ncontent-length: *(\d+)/i.exec(head);
  if (!lengthHeader) throw new Error(`response without Content-Length: ${head.split('\r\n')[0]}`);
  const length = end + 4 + Number(lengthHeader[1]);
  if (buffer.length < length) return undefined;
  return { status: Number(head.slice(9, 12)), length };
}
