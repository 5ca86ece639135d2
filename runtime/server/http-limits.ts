// Bounds on what one HTTP client can hold of the server: time to send its headers and its body,
// how long an idle connection stays open, how large a header block may be, and how many
// connections may be open at once. Without them a client that trickles its headers byte by byte,
// or thousands that connect and say nothing, tie up sockets and memory for as long as they like.
// runtime/README.md ("Limits on clients") lists each outcome.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { Logger } from '../../common/log.ts';

export interface ClientLimits {
  /** Most open connections; more are closed as they arrive. */
  maxConnections: number;
  /** Told of each connection refused for the cap. */
  onRefused?: () => void;
  logger?: Logger;
}

/** The headers must have arrived within this of the connection's first byte, else 408. */
export const HEADERS_TIMEOUT_MS = 10_000;
/**
 * The whole request (headers and body) within this, else 408. The answer is not bounded by it:
 * a stream may run for minutes once its request has arrived.
 */
export const REQUEST_TIMEOUT_MS = 30_000;
/**
 * An idle keep-alive connection is closed after this. Longer than the 60 s idle timeout of
 * common load balancers and ingress controllers, so they never reuse a connection the runtime
 * is closing at that moment (the cause of sporadic 502s behind a proxy).
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** A larger header block gets 431. Node's default, stated here because it is a promise. */
export const MAX_HEADER_BYTES = 16 * 1024;
/**
 * How often Node looks for connections past the two timeouts above; its default (30 s) would
 * let a 10 s header timeout run to 40 s.
 */
const TIMEOUT_CHECK_MS = 1_000;
/** A flood of refusals logs one warning per interval, not one per connection. */
const REFUSAL_LOG_INTERVAL_MS = 60_000;

export function createLimitedServer(listener: RequestListener, limits: ClientLimits): Server {
  const server = createServer(
    {
      maxHeaderSize: MAX_HEADER_BYTES,
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      connectionsCheckingInterval: TIMEOUT_CHECK_MS,
    },
    listener,
  );
  server.maxConnections = limits.maxConnections;
  let refusedSinceLog = 0;
  let lastLog = -Infinity;
  server.on('drop', () => {
    limits.onRefused?.();
    refusedSinceLog++;
    const now = performance.now();
    if (now - lastLog < REFUSAL_LOG_INTERVAL_MS) return;
    limits.logger?.warn('connections refused: MAX_CONNECTIONS are open', {
      maxConnections: limits.maxConnections,
      refused: refusedSinceLog,
    });
    refusedSinceLog = 0;
    lastLog = now;
  });
  return server;
}
