// A KubeConfig whose requests share one connection pool. client-node 2.0.1's
// applySecurityAuthentication builds a new undici Agent for every request it authenticates, and
// the kit's KubeClient calls it for every request: each request then opens (and leaves behind) a
// TLS connection of its own. The bare loop runs once as the kit does and once with this, which
// keeps the first Agent and hands it to every later request, to show what that costs.

import { KubeConfig } from '@kubernetes/client-node';

type RequestContext = Parameters<KubeConfig['applySecurityAuthentication']>[0];

export class ConnectionReusingKubeConfig extends KubeConfig {
  private dispatcher: ReturnType<RequestContext['getDispatcher']>;

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    this.dispatcher ??= context.getDispatcher();
    if (this.dispatcher) context.setDispatcher(this.dispatcher);
  }
}
