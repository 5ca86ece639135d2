// The chart's RBAC is exactly what the operator needs. The real operator process runs with the
// chart's arguments as the chart's ServiceAccount (impersonated) against the real API server: it
// takes a ChatBot and an ApiKey through everything it does to them under the installed rules, and
// for every single verb of those rules, rules without just that verb make it fail on exactly that
// verb (the API server's 403 in its log names it).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthorizationV1Api, KubeConfig, type V1PolicyRule } from '@kubernetes/client-node';
import { expect } from 'chai';
import { KubeClient } from '../../operator/kit/index.ts';
import { testCluster, type TestCluster } from '../cluster.ts';
import { installCrds } from '../crds.ts';
import { eventually } from '../../tools/eventually.ts';
import { kube } from '../kube.ts';
import { startOperator, type OperatorProcess } from '../operator-process.ts';
import { convergeChatBotAndApiKey } from './converge.ts';
import { chartDir, withValues } from './helm.ts';
import { impersonatingKubeconfig, serviceAccountUser } from './impersonation.ts';
import {
  grantName,
  grantsOf,
  refusedGrants,
  rulesOf,
  sameGrant,
  type Grant,
} from './rbac-grants.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** How many operators run at once in the loop over verbs (each with namespaces of its own). */
const parallel = 4;

interface Installed {
  /** The release's namespace: the ServiceAccount, the Lease Role, the operator's Lease. */
  namespace: string;
  serviceAccount: string;
  /** The operator container's args, as the chart renders them. */
  args: string[];
}

interface Outcome {
  converged: boolean;
  /** Grants the API server refused, from the operator's log. */
  refused: Grant[];
  failure?: string;
  logs: OperatorProcess['logs'];
}

describe("chart RBAC: exactly the operator's verbs (real operator as the chart's ServiceAccount)", function () {
  this.timeout(900_000);
  let cluster: TestCluster;
  /** The impersonating kubeconfigs (they hold the admin's client key): removed afterwards. */
  let kubeconfigs: string;

  const install = async (release: string, values: Json): Promise<Installed> => {
    const namespace = await cluster.namespace('lp-system');
    await cluster.helm(withValues(['install', release, chartDir, '-n', namespace], values));
    const name = `${release}-clawbot-operator`;
    const deployment = (await kube(cluster, namespace).get('deployment', name))!;
    const container = deployment.spec.template.spec.containers[0] as Json;
    return { namespace, serviceAccount: name, args: container.args as string[] };
  };

  /**
   * Runs the operator with the chart's args (its own health port aside, so several can run) as
   * the ServiceAccount, until the scenario converges or, with `until`, the API server refuses
   * that grant.
   */
  const run = async (installed: Installed, watched: string, until?: Grant): Promise<Outcome> => {
    const user = serviceAccountUser(installed.namespace, installed.serviceAccount);
    const args = installed.args.filter((a) => !a.startsWith('--health-port='));
    const operator = await startOperator(cluster, args, {
      KUBECONFIG: await impersonatingKubeconfig(cluster, user, kubeconfigs),
      // What the downward API gives the chart's pods.
      POD_NAMESPACE: installed.namespace,
    });
    const refused = () => operator.logs.flatMap((line) => refusedGrants(JSON.stringify(line)));
    const stop = new AbortController();
    try {
      const converged = convergeChatBotAndApiKey(cluster, watched, stop.signal).then(
        () => ({ converged: true }),
        (err: Error) => ({ converged: false, failure: err.message }),
      );
      const refusal = until
        ? eventually(
            `the API server refusing ${grantName(until)}`,
            async () => stop.signal.aborted || refused().some((r) => sameGrant(r, until)),
            180_000,
          ).then(
            () => ({ converged: false }),
            (err: Error) => ({ converged: false, failure: err.message }),
          )
        : new Promise<never>(() => {});
      const first = await Promise.race([converged, refusal]);
      return { ...first, refused: refused(), logs: operator.logs };
    } finally {
      stop.abort();
      await operator.stop('SIGKILL');
    }
  };

  const explain = (outcome: Outcome) =>
    [
      outcome.failure ?? '',
      ...outcome.logs
        .filter((l) => l.level === 'warn' || l.level === 'error')
        .slice(-8)
        .map((l) => JSON.stringify(l).slice(0, 600)),
    ].join('\n');

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
    kubeconfigs = await mkdtemp(join(tmpdir(), 'clawbot-as-'));
  });

  after(() => rm(kubeconfigs, { recursive: true, force: true }));

  it("the impersonating kubeconfig makes the operator's client act as the ServiceAccount", async () => {
    const namespace = await cluster.namespace('lp-whoami');
    const kc = new KubeConfig();
    const user = serviceAccountUser(namespace, 'op');
    kc.loadFromFile(await impersonatingKubeconfig(cluster, user, kubeconfigs));
    const review = await new KubeClient(kc).request<Json>({
      method: 'POST',
      path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    });
    expect(review.status.userInfo.username).to.equal(`system:serviceaccount:${namespace}:op`);
    expect(review.status.userInfo.groups).to.include.members([
      'system:serviceaccounts',
      `system:serviceaccounts:${namespace}`,
    ]);
  });

  it('with the ClusterRole (all namespaces): reconciles a ChatBot and an ApiKey fully, refused nothing', async () => {
    const installed = await install('lp-cluster', {});
    const watched = await cluster.namespace('lp-all');
    const outcome = await run(installed, watched);
    expect(outcome.converged, explain(outcome)).to.equal(true);
    expect(outcome.refused.map(grantName)).to.deep.equal([]);
    // Uninstalled, so this operator's ClusterRole cannot widen what the next tests grant.
    await cluster.helm(['uninstall', 'lp-cluster', '-n', installed.namespace, '--wait']);
  });

  describe('with a Role in each listed namespace', () => {
    let installed: Installed;
    let watched: string;
    let watchedRules: V1PolicyRule[];
    let leaseRules: V1PolicyRule[];

    before(async () => {
      watched = await cluster.namespace('lp-bots');
      installed = await install('lp', { watchNamespaces: [watched] });
      const role = (namespace: string, name: string) =>
        kube(cluster, namespace)
          .get('role', name)
          .then((r) => r!.rules as V1PolicyRule[]);
      watchedRules = await role(watched, installed.serviceAccount);
      leaseRules = await role(installed.namespace, `${installed.serviceAccount}-leader-election`);
    });

    it('reconciles a ChatBot and an ApiKey fully, refused nothing', async () => {
      const outcome = await run(installed, watched);
      expect(outcome.converged, explain(outcome)).to.equal(true);
      expect(outcome.refused.map(grantName)).to.deep.equal([]);
    });

    it('fails on exactly the missing verb, for every single verb taken away', async () => {
      const variants = [
        ...grantsOf(watchedRules).map((grant) => ({ grant, scope: 'watched' as const })),
        ...grantsOf(leaseRules).map((grant) => ({ grant, scope: 'lease' as const })),
      ];
      const problems: string[] = [];
      const queue = [...variants];
      const worker = async () => {
        for (let v = queue.shift(); v; v = queue.shift()) {
          const problem = await withoutGrant(v.grant, v.scope);
          console.log(
            `      without ${grantName(v.grant)}: ${problem ?? 'refused, as it must be'}`,
          );
          if (problem) problems.push(`without ${grantName(v.grant)}: ${problem}`);
        }
      };
      await Promise.all(Array.from({ length: parallel }, worker));
      expect(problems, problems.join('\n\n')).to.deep.equal([]);
    });

    /**
     * The chart's rules minus one grant, for a ServiceAccount of namespaces of its own; returns
     * what went wrong, or undefined when the operator failed on exactly that grant.
     */
    const withoutGrant = async (
      removed: Grant,
      scope: 'watched' | 'lease',
    ): Promise<string | undefined> => {
      const own = await cluster.namespace('lp-own');
      const bots = await cluster.namespace('lp-bots');
      const account = installed.serviceAccount;
      const keep = (rules: V1PolicyRule[], inScope: boolean) =>
        grantsOf(rules).filter((g) => !(inScope && grantName(g) === grantName(removed)));
      const grants = {
        watched: keep(watchedRules, scope === 'watched'),
        lease: keep(leaseRules, scope === 'lease'),
      };
      await kube(cluster, own).apply({
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: account },
      });
      await grant(bots, account, grants.watched, own, account);
      await grant(own, `${account}-leader-election`, grants.lease, own, account);
      await permissionsInEffect(own, account, [
        ...grants.watched.map((g) => ({ grant: g, namespace: bots, allowed: true })),
        ...grants.lease.map((g) => ({ grant: g, namespace: own, allowed: true })),
        { grant: removed, namespace: scope === 'watched' ? bots : own, allowed: false },
      ]);

      const args = installed.args.map((a) =>
        a.startsWith('--namespaces=') ? `--namespaces=${bots}` : a,
      );
      const outcome = await run({ ...installed, namespace: own, args }, bots, removed);
      if (outcome.converged)
        return 'the operator did everything without it: the verb is not needed';
      if (!outcome.refused.some((r) => sameGrant(r, removed))) {
        return `no refusal of it in the operator's log\n${explain(outcome)}`;
      }
      const others = outcome.refused.filter((r) => !sameGrant(r, removed));
      if (others.length) {
        return `refused other grants too: ${others.map(grantName).join(', ')}\n${explain(outcome)}`;
      }
      return undefined;
    };

    const grant = async (
      namespace: string,
      name: string,
      grants: Grant[],
      accountNamespace: string,
      account: string,
    ) => {
      const k = kube(cluster, namespace);
      await k.apply({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name },
        rules: rulesOf(grants),
      });
      await k.apply({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
        subjects: [{ kind: 'ServiceAccount', name: account, namespace: accountNamespace }],
      });
    };

    /** Waits until the API server's authorizer answers exactly as these roles say. */
    const permissionsInEffect = async (
      accountNamespace: string,
      account: string,
      expected: Array<{ grant: Grant; namespace: string; allowed: boolean }>,
    ) => {
      const authorization = cluster.kc.makeApiClient(AuthorizationV1Api);
      const allowed = async ({ grant: g, namespace }: { grant: Grant; namespace: string }) =>
        (
          await authorization.createSubjectAccessReview({
            body: {
              spec: {
                user: serviceAccountUser(accountNamespace, account),
                groups: ['system:serviceaccounts', `system:serviceaccounts:${accountNamespace}`],
                resourceAttributes: {
                  namespace,
                  verb: g.verb,
                  group: g.apiGroup,
                  resource: g.resource.split('/')[0],
                  subresource: g.resource.split('/')[1],
                  name: g.resourceNames?.[0],
                },
              },
            },
          })
        ).status?.allowed === true;
      await eventually('the roles in effect', async () => {
        for (const e of expected) if ((await allowed(e)) !== e.allowed) return false;
        return true;
      });
    };
  });
});
