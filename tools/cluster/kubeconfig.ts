// A kubeconfig for one identity (a client certificate signed by the cluster's CA).

import { stringify } from 'yaml';

export interface ClientIdentity {
  name: string;
  cert: string;
  key: string;
}

export function kubeconfigYaml(server: string, caCert: string, user: ClientIdentity): string {
  const b64 = (pem: string) => Buffer.from(pem).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'clawbot-local', cluster: { server, 'certificate-authority-data': b64(caCert) } },
    ],
    users: [
      {
        name: user.name,
        user: { 'client-certificate-data': b64(user.cert), 'client-key-data': b64(user.key) },
      },
    ],
    contexts: [{ name: 'clawbot-local', context: { cluster: 'clawbot-local', user: user.name } }],
    'current-context': 'clawbot-local',
  });
}
