// Every request the operator sends goes through one counted transport, client-node's
// Configuration.httpApi: typed API clients made with api() and the kit's own requests
// (object client, informers, leader election) alike. It
// - counts requests by method and status code (rest_client_requests_total, as client-go);
// - refuses writes while writesAllowed() says no (a process that lost its lease stops writing at
//   once, even in the middle of a reconcile);
// - bounds each request with a timeout unless the caller brought its own signal;
// - keeps one connection pool (see PooledAuthentication).
// A client-node middleware cannot do this: its post hook does not see which request a response
// answers, nor requests that failed without a response.

import {
  IsomorphicFetchHttpLibrary,
  Observable,
  RequestContext,
  ServerConfiguration,
  createConfiguration,
  type Configuration,
  type HttpLibrary,
  type HttpMethod,
  type KubeConfig,
  type ResponseContext,
  type SecurityAuthentication,
} from '@kubernetes/client-node';
import { ApiError, ConflictError, NotLeaderError } from './errors.ts';
import { restClientRequests } from './metrics.ts';

export const userAgent = 'clawbot-operator';

export interface KubeClientOptions {
  /** Asked before each write (anything but GET); false refuses it with NotLeaderError. */
  writesAllowed?: () => boolean;
  /** Timeout of a request that has no signal of its own; 30 s by default. */
  requestTimeoutMs?: number;
}

export interface KubeRequest {
  method: HttpMethod;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** Sent as JSON. */
  body?: unknown;
  /** application/json by default; patches need their own type. */
  contentType?: string;
  signal?: AbortSignal;
}

export class KubeClient {
  readonly kubeConfig: KubeConfig;
  /** For typed client-node APIs; prefer api(). */
  readonly configuration: Configuration;
  private readonly server: string;
  private readonly authentication: PooledAuthentication;

  constructor(kubeConfig: KubeConfig, options: KubeClientOptions = {}) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) {
      throw new Error(
        'the kubeconfig has no current cluster: set current-context, or run in a Pod',
      );
    }
    this.kubeConfig = kubeConfig;
    this.server = cluster.server;
    this.authentication = new PooledAuthentication(kubeConfig);
    this.configuration = createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: this.authentication },
      httpApi: countedTransport(new IsomorphicFetchHttpLibrary(), {
        writesAllowed: options.writesAllowed ?? (() => true),
        requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      }),
    });
  }

  /** A typed client-node API (CoreV1Api, AppsV1Api, …) whose requests are counted and gated. */
  api<T>(Api: new (configuration: Configuration) => T): T {
    return new Api(this.configuration);
  }

  /** Sends a request and returns the parsed JSON body; throws ApiError for a non-2xx status. */
  async request<T>(request: KubeRequest): Promise<T> {
    const response = await this.send(request);
    const text = await response.body.text();
    if (response.httpStatusCode >= 300) throw apiError(request, response.httpStatusCode, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Opens a streaming request (a watch): the body as it arrives. Aborting the signal ends it. */
  async stream(
    request: KubeRequest & { signal: AbortSignal },
  ): Promise<ReadableStream<Uint8Array>> {
    const response = await this.send(request);
    const body = response.body.stream();
    if (response.httpStatusCode !== 200 || !body) {
      throw apiError(request, response.httpStatusCode, await response.body.text());
    }
    return body;
  }

  private async send(request: KubeRequest): Promise<ResponseContext> {
    const url = new URL(this.server.replace(/\/$/, '') + request.path);
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const context = new RequestContext(url.toString(), request.method);
    context.setHeaderParam('Accept', 'application/json');
    if (request.body !== undefined) {
      context.setHeaderParam('Content-Type', request.contentType ?? 'application/json');
      context.setBody(JSON.stringify(request.body));
    }
    if (request.signal) context.setSignal(request.signal);
    await this.authentication.applySecurityAuthentication(context);
    try {
      return await this.configuration.httpApi.send(context).toPromise();
    } catch (err) {
      if (err instanceof NotLeaderError || request.signal?.aborted) throw err;
      throw new Error(
        `${request.method} ${request.path}: ${(err as Error).message}` +
          ` (is the API server at ${this.server} reachable?)`,
        { cause: err },
      );
    }
  }
}

/**
 * The kubeconfig's authentication with one connection pool for all requests. client-node's
 * KubeConfig builds a new undici Agent each time it authenticates a request, so every request
 * would open a TLS connection of its own and leave it open (700 sockets after converging 1000
 * ChatBots, in bench/operator.ts). Headers are still applied per request, so a bearer token that
 * is re-read or refreshed keeps working; the TLS material (CA, client certificate) is the one read
 * for the first request, and a rotated client certificate takes effect when the operator restarts.
 */
class PooledAuthentication implements SecurityAuthentication {
  private readonly kubeConfig: KubeConfig;
  private dispatcher: ReturnType<RequestContext['getDispatcher']>;

  constructor(kubeConfig: KubeConfig) {
    this.kubeConfig = kubeConfig;
  }

  getName(): string {
    return 'kubeconfig with one connection pool';
  }

  async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await this.kubeConfig.applySecurityAuthentication(context);
    this.dispatcher ??= context.getDispatcher();
    if (this.dispatcher) context.setDispatcher(this.dispatcher);
  }
}

function countedTransport(
  inner: HttpLibrary,
  options: { writesAllowed: () => boolean; requestTimeoutMs: number },
): HttpLibrary {
  return {
    send(request: RequestContext): Observable<ResponseContext> {
      const method = request.getHttpMethod();
      if (method !== 'GET' && !options.writesAllowed()) {
        return new Observable(
          Promise.reject(new NotLeaderError(method, new URL(request.getUrl()).pathname)),
        );
      }
      request.setHeaderParam('User-Agent', userAgent);
      if (!request.getSignal()) request.setSignal(AbortSignal.timeout(options.requestTimeoutMs));
      const sent = inner
        .send(request)
        .toPromise()
        .then(
          (response) => {
            restClientRequests.inc({ method, code: String(response.httpStatusCode) });
            return response;
          },
          (err: unknown) => {
            // client-go's label for a request that got no response at all.
            restClientRequests.inc({ method, code: '<error>' });
            throw err;
          },
        );
      return new Observable(sent);
    },
  };
}

function apiError(request: KubeRequest, status: number, text: string): ApiError {
  let reason = '';
  let message = text.trim().slice(0, 500);
  let objectNamed = false;
  try {
    const parsed = JSON.parse(text) as {
      reason?: string;
      message?: string;
      details?: { name?: string };
    };
    reason = parsed.reason ?? '';
    message = parsed.message ?? message;
    objectNamed = Boolean(parsed.details?.name);
  } catch {
    // Not a Status object (a plain-text 404 for an unknown API group, say): keep the raw text.
  }
  if (status === 409 && reason === 'Conflict') {
    return new ConflictError(request.method, request.path, message);
  }
  const label = reason || `HTTP${status}`;
  return new ApiError(request.method, request.path, status, label, message, objectNamed);
}
