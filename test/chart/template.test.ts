// `helm template` with default and non-default values: the objects, the operator's arguments as
// the operator itself parses them, and the values the schema refuses.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import packageJson from '../../package.json' with { type: 'json' };
import { parseOptions } from '../../operator/options.ts';
import { chartDir, helm, kubeVersion, only, render, withValues } from './helm.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The error message of a promise expected to reject. */
const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('expected helm to refuse'),
    (err: Error) => err.message,
  );

const container = (deployment: Json) => deployment.spec.template.spec.containers[0] as Json;

/** The options the operator would run with, given the container's args and the pod's env. */
const operatorOptions = (deployment: Json, namespace: string) =>
  parseOptions(container(deployment).args as string[], { POD_NAMESPACE: namespace }, 'unused');

describe('chart: helm template', function () {
  this.timeout(120_000);

  describe('default values', () => {
    let objects: Json[];
    before(async () => {
      objects = await render({}, { release: 'clawbot', namespace: 'clawbot-system' });
    });

    it('renders the operator and its RBAC, and no monitoring objects', () => {
      expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).to.deep.equal([
        'ClusterRole/clawbot-clawbot-operator',
        'ClusterRoleBinding/clawbot-clawbot-operator',
        'Deployment/clawbot-clawbot-operator',
        'PodDisruptionBudget/clawbot-clawbot-operator',
        'Role/clawbot-clawbot-operator-leader-election',
        'RoleBinding/clawbot-clawbot-operator-leader-election',
        'Service/clawbot-clawbot-operator-metrics',
        'ServiceAccount/clawbot-clawbot-operator',
      ]);
    });

    it('gives the operator arguments it accepts: its own defaults, all namespaces, and leader election on', async () => {
      const deployment = only(objects, 'Deployment');
      const options = operatorOptions(deployment, 'clawbot-system');
      const defaults = parseOptions([], { POD_NAMESPACE: 'clawbot-system' }, packageJson.version);
      expect(options).to.deep.equal({
        ...defaults,
        leaderElection: { namespace: 'clawbot-system' },
      });
      expect(options.namespaces).to.equal(undefined);
      // The chart ships the operator and runtime of its appVersion: the package's version.
      const chart = parse(await readFile(join(chartDir, 'Chart.yaml'), 'utf8')) as Json;
      expect(chart.appVersion).to.equal(packageJson.version);
      expect(container(deployment).image).to.equal(
        `ghcr.io/clawbot/operator:${packageJson.version}`,
      );
    });

    it('takes the Lease namespace from the downward API', () => {
      expect(container(only(objects, 'Deployment')).env).to.deep.include({
        name: 'POD_NAMESPACE',
        valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } },
      });
    });

    it('probes /healthz and /readyz on the port the operator serves them on', () => {
      const deployment = only(objects, 'Deployment');
      const c = container(deployment);
      const port = operatorOptions(deployment, 'clawbot-system').healthPort;
      expect(c.ports).to.deep.equal([{ name: 'health', containerPort: port, protocol: 'TCP' }]);
      expect(c.livenessProbe.httpGet).to.deep.equal({ path: '/healthz', port: 'health' });
      expect(c.readinessProbe.httpGet).to.deep.equal({ path: '/readyz', port: 'health' });
      const service = only(objects, 'Service');
      expect(service.spec.ports).to.deep.equal([
        { name: 'metrics', port: 8080, targetPort: 'health', protocol: 'TCP' },
      ]);
      expect(service.spec.selector).to.deep.equal(deployment.spec.selector.matchLabels);
    });

    it('sets the Pod Security "restricted" fields and resources', () => {
      const deployment = only(objects, 'Deployment');
      const pod = deployment.spec.template.spec;
      expect(pod.securityContext).to.deep.equal({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(container(deployment).securityContext).to.deep.equal({
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(container(deployment).resources).to.deep.equal({
        requests: { cpu: '100m', memory: '128Mi' },
        limits: { memory: '512Mi' },
      });
      expect(deployment.spec.replicas).to.equal(2);
      expect(pod.serviceAccountName).to.equal('clawbot-clawbot-operator');
    });

    it('lets node drains evict one operator pod at a time, so a standby is left to lead', () => {
      const budget = only(objects, 'PodDisruptionBudget');
      expect(budget.spec).to.deep.equal({
        maxUnavailable: 1,
        selector: only(objects, 'Deployment').spec.selector,
      });
    });

    it('runs only on Kubernetes versions whose API server can check the CRDs (1.31 on)', async () => {
      const args = ['template', 'clawbot', chartDir, '--kube-version'];
      expect(await failureOf(helm([...args, '1.30.9']))).to.match(
        /chart requires kubeVersion: >=1\.31\.0-0 which is incompatible with Kubernetes v1\.30\.9/,
      );
      expect(await helm([...args, '1.31.4-eks-1234'])).to.match(/kind: Deployment/);
    });

    it('binds the ClusterRole and the Lease Role to the ServiceAccount', () => {
      const subject = {
        kind: 'ServiceAccount',
        name: 'clawbot-clawbot-operator',
        namespace: 'clawbot-system',
      };
      expect(only(objects, 'ClusterRoleBinding').subjects).to.deep.equal([subject]);
      expect(only(objects, 'RoleBinding').subjects).to.deep.equal([subject]);
      expect(only(objects, 'Role').metadata.namespace).to.equal('clawbot-system');
      expect(only(objects, 'Role').rules).to.deep.equal([
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
        {
          apiGroups: ['coordination.k8s.io'],
          resources: ['leases'],
          resourceNames: ['clawbot-operator'],
          verbs: ['get', 'update'],
        },
      ]);
    });
  });

  describe('non-default values', () => {
    const values = {
      replicaCount: 3,
      watchNamespaces: ['team-a', 'team-b'],
      logLevel: 'debug',
      runtimeImage: 'registry.example/clawbot/runtime:7',
      image: {
        repository: 'registry.example/clawbot/operator',
        digest: `sha256:${'a'.repeat(64)}`,
      },
      serviceAccount: { name: 'bots', annotations: { 'example.com/role': 'x' } },
      resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { memory: '2Gi' } },
      nodeSelector: { pool: 'system' },
      metrics: {
        service: { port: 9090 },
        serviceMonitor: { enabled: true, interval: '15s', labels: { release: 'prom' } },
        podMonitor: { enabled: true, labels: { release: 'prom' } },
      },
      prometheusRule: { enabled: true, latency: { thresholdSeconds: 2 } },
      dashboard: { enabled: true, namespace: 'grafana' },
    };
    let objects: Json[];
    let clusterWide: Json[];
    before(async () => {
      objects = await render(values, { release: 'bots', namespace: 'ops' });
      clusterWide = await render({}, { release: 'bots', namespace: 'ops' });
    });

    it('passes them to the operator', () => {
      const deployment = only(objects, 'Deployment');
      expect(deployment.spec.replicas).to.equal(3);
      expect(operatorOptions(deployment, 'ops')).to.deep.include({
        namespaces: ['team-a', 'team-b'],
        logLevel: 'debug',
        runtimeImage: 'registry.example/clawbot/runtime:7',
        leaderElection: { namespace: 'ops' },
      });
      expect(container(deployment).image).to.equal(
        `registry.example/clawbot/operator@sha256:${'a'.repeat(64)}`,
      );
      expect(container(deployment).resources).to.deep.equal(values.resources);
      expect(deployment.spec.template.spec.nodeSelector).to.deep.equal({ pool: 'system' });
      expect(deployment.spec.template.spec.serviceAccountName).to.equal('bots');
      expect(only(objects, 'ServiceAccount', 'bots').metadata.annotations).to.deep.equal({
        'example.com/role': 'x',
      });
    });

    it("grants the ClusterRole's rules as a Role in each listed namespace, and nothing cluster-wide", () => {
      expect(objects.filter((o) => o.kind.startsWith('Cluster'))).to.deep.equal([]);
      const rules = only(clusterWide, 'ClusterRole').rules as Json[];
      for (const namespace of values.watchNamespaces) {
        const role = objects.find((o) => o.kind === 'Role' && o.metadata.namespace === namespace)!;
        expect(role.rules).to.deep.equal(rules);
        const binding = objects.find(
          (o) => o.kind === 'RoleBinding' && o.metadata.namespace === namespace,
        )!;
        expect(binding.roleRef).to.deep.equal({
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'Role',
          name: role.metadata.name,
        });
        expect(binding.subjects).to.deep.equal([
          { kind: 'ServiceAccount', name: 'bots', namespace: 'ops' },
        ]);
      }
    });

    it('creates the ServiceMonitor, PodMonitor, PrometheusRule and dashboard where asked', () => {
      const service = only(objects, 'Service');
      const monitor = only(objects, 'ServiceMonitor');
      expect(monitor.metadata.labels.release).to.equal('prom');
      expect(service.metadata.labels).to.deep.include(monitor.spec.selector.matchLabels);
      expect(monitor.spec.endpoints[0]).to.deep.include({ port: 'metrics', interval: '15s' });
      expect(service.spec.ports[0]).to.deep.include({ name: 'metrics', port: 9090 });
      expect(only(objects, 'PodMonitor').spec.namespaceSelector).to.deep.equal({
        matchNames: ['team-a', 'team-b'],
      });
      const rule = only(objects, 'PrometheusRule');
      const latency = (rule.spec.groups as Json[])
        .flatMap((g) => g.rules as Json[])
        .find((r) => r.alert === 'ClawBotHighLatencyP99')!;
      expect(latency.expr).to.match(/\) > 2\n$/);
      const dashboard = only(objects, 'ConfigMap');
      expect(dashboard.metadata.namespace).to.equal('grafana');
      expect(dashboard.metadata.labels.grafana_dashboard).to.equal('1');
      expect(JSON.parse(dashboard.data['clawbot.json']).title).to.equal('ClawBot');
    });

    it('leaves the disruption budget out for one replica (it would block every drain) or when disabled', async () => {
      for (const values of [{ replicaCount: 1 }, { podDisruptionBudget: { enabled: false } }]) {
        const kinds = (await render(values)).map((o) => o.kind);
        expect(kinds, JSON.stringify(values)).to.not.include('PodDisruptionBudget');
      }
    });

    it('leaves RBAC out with rbac.create=false, and needs a name for an existing ServiceAccount', async () => {
      const noRbac = await render({ rbac: { create: false } });
      expect(noRbac.filter((o) => /Role/.test(o.kind))).to.deep.equal([]);
      expect(await failureOf(render({ serviceAccount: { create: false } }))).to.match(
        /serviceAccount.name: name the existing ServiceAccount the operator runs as/,
      );
    });
  });

  describe('values.schema.json', () => {
    const refused = (values: Json) =>
      failureOf(
        helm(withValues(['template', 'x', chartDir, '--kube-version', kubeVersion], values)),
      );

    it('refuses bad values, naming the value and what is allowed', async () => {
      expect(await refused({ logLevel: 'verbose' })).to.match(
        /at '\/logLevel': value must be one of 'debug', 'info', 'warn', 'error'/,
      );
      expect(await refused({ replicaCount: 0 })).to.match(
        /at '\/replicaCount': minimum: got 0, want 1/,
      );
      expect(await refused({ watchNamespaces: ['Team_A'] })).to.match(
        /at '\/watchNamespaces\/0': 'Team_A' does not match pattern/,
      );
      expect(await refused({ prometheusRule: { errorRate: { threshold: 5 } } })).to.match(
        /at '\/prometheusRule\/errorRate\/threshold': maximum: got 5, want 1/,
      );
      expect(await refused({ metrics: { podMonitor: { interval: 'often' } } })).to.match(
        /at '\/metrics\/podMonitor\/interval': 'often' does not match pattern/,
      );
    });

    it('refuses a misspelt value instead of ignoring it', async () => {
      expect(await refused({ replicas: 3 })).to.match(
        /additional properties 'replicas' not allowed/,
      );
      expect(await refused({ image: { tags: 'x' } })).to.match(
        /at '\/image': additional properties 'tags' not allowed/,
      );
    });

    it('describes every value in values.yaml', async () => {
      const schema = JSON.parse(await readFile(join(chartDir, 'values.schema.json'), 'utf8'));
      const defaults = parse(await readFile(join(chartDir, 'values.yaml'), 'utf8')) as Json;
      const undescribed: string[] = [];
      const walk = (value: unknown, node: Json | undefined, path: string) => {
        if (!node?.description) undescribed.push(path);
        if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
        for (const [key, child] of Object.entries(value)) {
          // Free-form maps (labels, resources) describe their entries as additionalProperties.
          const property =
            node?.properties?.[key] ?? (node?.additionalProperties ? node : undefined);
          if (property !== node) walk(child, property, `${path}.${key}`);
        }
      };
      walk(defaults, schema.properties ? { ...schema, description: 'root' } : undefined, 'values');
      expect(undescribed).to.deep.equal([]);
    });
  });
});
