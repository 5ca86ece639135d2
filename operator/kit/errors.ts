// Error types a reconciler can tell apart: an API error with its status, an optimistic-concurrency
// conflict, a write refused because this process is not the leader, and a terminal error that must
// not be retried.

/** A failed request to the Kubernetes API server, with the server's reason and message. */
export class ApiError extends Error {
  readonly status: number;
  /** The `reason` of the server's Status object (NotFound, AlreadyExists, Conflict, …). */
  readonly reason: string;
  readonly method: string;
  readonly path: string;

  /** `objectNamed`: the server's Status names the object (a 404 for it, not for its type). */
  constructor(
    method: string,
    path: string,
    status: number,
    reason: string,
    serverMessage: string,
    objectNamed = false,
  ) {
    super(
      `${method} ${path}: ${status} ${reason}: ${serverMessage}${hintFor(status, objectNamed)}`,
    );
    this.name = 'ApiError';
    this.status = status;
    this.reason = reason;
    this.method = method;
    this.path = path;
  }
}

/**
 * 409 Conflict on a write that carried a resourceVersion: someone else changed the object since it
 * was read. Read it again, and decide again.
 */
export class ConflictError extends ApiError {
  constructor(method: string, path: string, serverMessage: string) {
    super(method, path, 409, 'Conflict', serverMessage);
    this.name = 'ConflictError';
  }
}

/** A write refused before it was sent, because this process does not (or no longer) hold the lease. */
export class NotLeaderError extends Error {
  constructor(method: string, path: string) {
    super(
      `${method} ${path} refused: this process is not the leader, so it must not write; ` +
        'the elected leader will make this change',
    );
    this.name = 'NotLeaderError';
  }
}

/**
 * Thrown by a reconciler for a problem that retrying cannot fix (an invalid spec, say): the
 * controller counts it as an error but does not retry until the object changes again.
 */
export class TerminalError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.status === 404;
}

export function isAlreadyExists(err: unknown): boolean {
  return err instanceof ApiError && err.status === 409 && err.reason === 'AlreadyExists';
}

function hintFor(status: number, objectNamed: boolean): string {
  if (status === 401) return ' (check the credentials in the kubeconfig or service account token)';
  if (status === 403) return " (grant this verb on this resource in the operator's RBAC role)";
  if (status === 404 && !objectNamed) return ' (is the resource type served? install its CRD)';
  if (status === 422) return ' (the object is invalid: fix the fields named above)';
  if (status === 429) return ' (the API server is throttling: the request will be retried)';
  return '';
}
