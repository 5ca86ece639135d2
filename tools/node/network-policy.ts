// NetworkPolicy enforcement on the local node: kube-router with only its firewall running (no
// routing, no service proxy: the CNI bridge and kube-proxy do those), as a node process next to
// kube-proxy in the node's network namespace. For every pod on the node that a NetworkPolicy
// selects, it writes an iptables chain that admits what the policies allow, matching peers
// against ipsets, and rejects the rest; bridged pod-to-pod traffic reaches those chains through
// br_netfilter (network.ts turns it on). Traffic from the node's own addresses (the kubelet's
// probes) is always admitted.
//
// Why kube-router: SIG Network's kube-network-policies (what kind's kindnet runs) queues packets
// with nftables' `queue` expression, which this VM's kernel is built without (CONFIG_NFT_QUEUE);
// kube-router needs only iptables, ipset and the physdev match, all built in. Upstream runs it as
// a host-network DaemonSet; a host-network pod here could not dial the `kubernetes` Service (the
// node's namespace has no default route), so it is a node process like kube-proxy, with a
// kubeconfig as upstream's firewall-only DaemonSet has, acting as upstream's ServiceAccount
// (kube-system/kube-router) through a token.

import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import type { Command } from '../cluster/command.ts';
import { serviceCidr } from '../cluster/control-plane.ts';
import { waitUntilReady, type Started } from '../cluster/processes.ts';

const run = promisify(execFile);

const name = 'kube-router';
const namespace = 'kube-system';

export interface StartNetworkPolicyInput {
  binary: string;
  /** The node's name; its Node object must exist (kube-router reads its addresses). */
  nodeName: string;
  server: string;
  caCert: string;
  /** Where its kubeconfig is written (the node's folder, deleted with the cluster). */
  dir: string;
  /** kubectl as the cluster's admin. */
  kubectl: Command;
  /** Starts a program inside the node's namespaces, recorded with the cluster. */
  startInNode: (name: string, binary: string, args: string[]) => Promise<Started>;
}

/** Starts the firewall; resolves once its chains sit in the node's FORWARD path. */
export async function startNetworkPolicyFirewall(input: StartNetworkPolicyInput): Promise<void> {
  const list = { apiVersion: 'v1', kind: 'List', items: rbacObjects() };
  await input.kubectl(
    ['apply', '--server-side', '--field-manager=clawbot-cluster', '-f', '-'],
    JSON.stringify(list),
  );
  // A year: longer than any local cluster lives, and nothing would renew a token for a process.
  const token = (
    await input.kubectl(['create', 'token', name, '-n', namespace, '--duration=8760h'])
  ).trim();
  const kubeconfig = join(input.dir, `${name}.kubeconfig`);
  await writeFile(kubeconfig, tokenKubeconfig(input.server, input.caCert, token), { mode: 0o600 });
  const started = await input.startInNode(name, input.binary, [
    '--run-firewall=true',
    '--run-router=false',
    '--run-service-proxy=false',
    `--kubeconfig=${kubeconfig}`,
    `--hostname-override=${input.nodeName}`,
    `--service-cluster-ip-range=${serviceCidr}`,
    '--v=1',
  ]);
  // It creates its chains once its informers have synced and it has found the Node.
  await waitUntilReady(started, () => firewallHooked(started.record.pid), 90_000);
}

async function firewallHooked(pid: number): Promise<boolean> {
  const { stdout } = await run('nsenter', ['-t', String(pid), '-n', 'iptables', '-S', 'FORWARD']);
  return stdout.includes('-j KUBE-ROUTER-FORWARD');
}

/**
 * Upstream's ClusterRole, read rules only: the firewall watches all of these (its informers must
 * sync before it starts); leases and services/status serve controllers that do not run here.
 */
function rbacObjects(): Record<string, unknown>[] {
  const read = ['get', 'list', 'watch'];
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name },
      rules: [
        {
          apiGroups: [''],
          resources: ['namespaces', 'pods', 'services', 'nodes', 'endpoints'],
          verbs: read,
        },
        { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: read },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: read },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  ];
}

function tokenKubeconfig(server: string, caCert: string, token: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'clawbot-local',
        cluster: { server, 'certificate-authority-data': Buffer.from(caCert).toString('base64') },
      },
    ],
    users: [{ name, user: { token } }],
    contexts: [{ name: 'clawbot-local', context: { cluster: 'clawbot-local', user: name } }],
    'current-context': 'clawbot-local',
  });
}
