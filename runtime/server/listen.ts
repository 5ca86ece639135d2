// Starting a listener, with the deployment guide's troubleshooting built into the error: a port
// that is taken or privileged is the most common reason the runtime does not start.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The listener could not start; the message says which port, why, and what to do. */
export class ListenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ListenError';
  }
}

/**
 * Listens on `port` on every interface and resolves to the port bound (the chosen one for 0).
 * `variable` is the environment variable that set the port, for the error message.
 */
export function listen(server: Server, port: number, variable: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(new ListenError(explain(error, port, variable)));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port);
  });
}

function explain(error: NodeJS.ErrnoException, port: number, variable: string): string {
  switch (error.code) {
    case 'EADDRINUSE':
      return (
        `port ${port} is already in use (EADDRINUSE) by another process; stop it ` +
        `(\`ss -ltnp 'sport = :${port}'\` shows which) or set ${variable} to a free port`
      );
    case 'EACCES':
      return (
        `port ${port} needs privileges this process does not have (EACCES); ` +
        `set ${variable} to a port from 1024 to 65535`
      );
    default:
      return `cannot listen on port ${port} (${variable}): ${error.message}`;
  }
}
