import { expect } from 'chai';
import { desiredConfigMap, desiredServiceAccount } from './desired-config.ts';
import { desiredDeployment } from './desired-deployment.ts';
import {
  desiredIngress,
  desiredNetworkPolicy,
  desiredService,
  endpointOf,
} from './desired-network.ts';
import { desiredAutoscaler, desiredDisruptionBudget } from './desired-scaling.ts';
import { desiredClaim } from './desired-storage.ts';
import { resolvedChatBot, ggufSource, productionSpec } from '../../test/support/chatbots.ts';

const ctx = { defaultRuntimeImage: 'ghcr.io/clawbot/runtime:0.1.0' };

describe('desired children of a ChatBot', () => {
  describe("the guide's production example", () => {
    const cb = resolvedChatBot(productionSpec);
    const deployment = desiredDeployment(cb, ctx);
    const pod = deployment.spec!.template.spec!;
    const runtime = pod.containers[0]!;

    it('runs the runtime with the requested CPU, memory and one GPU', () => {
      expect(runtime.resources).to.deep.equal({
        requests: { cpu: '2', memory: '4Gi' },
        limits: { memory: '4Gi', 'nvidia.com/gpu': '1' },
      });
      expect(pod.tolerations).to.deep.include({
        key: 'nvidia.com/gpu',
        operator: 'Exists',
        effect: 'NoSchedule',
      });
    });

    it('serves on port 18789 and probes a separate health port', () => {
      expect(runtime.ports).to.deep.include({
        name: 'http',
        containerPort: 18789,
        protocol: 'TCP',
      });
      expect(runtime.readinessProbe!.httpGet).to.deep.equal({ path: '/readyz', port: 'health' });
      expect(runtime.livenessProbe!.httpGet).to.deep.equal({ path: '/livez', port: 'health' });
    });

    it('loads the model once into the data volume, verified by sha256', () => {
      const loader = pod.initContainers![0]!;
      expect(loader.args).to.deep.equal([
        'load-model',
        '--source',
        ggufSource.url,
        '--sha256',
        ggufSource.sha256,
        '--format',
        'gguf',
        '--model-path',
        `/app/data/models/${ggufSource.sha256.slice(0, 16)}`,
      ]);
      expect(desiredConfigMap(cb).data!.MODEL_PATH).to.equal(
        `/app/data/models/${ggufSource.sha256.slice(0, 16)}`,
      );
      expect(runtime.volumeMounts).to.deep.include({ name: 'data', mountPath: '/app/data' });
    });

    it('runs non-root, without privilege escalation, on a read-only root filesystem', () => {
      expect(pod.securityContext!.runAsNonRoot).to.equal(true);
      for (const c of [...pod.initContainers!, ...pod.containers]) {
        expect(c.securityContext).to.deep.equal({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
      }
      expect(pod.automountServiceAccountToken).to.equal(false);
      expect(desiredServiceAccount(cb).automountServiceAccountToken).to.equal(false);
    });

    it('autoscales 2–10 replicas at 70 % CPU and starts at the minimum', () => {
      const hpa = desiredAutoscaler(cb)!;
      expect(hpa.spec!.minReplicas).to.equal(2);
      expect(hpa.spec!.maxReplicas).to.equal(10);
      expect(hpa.spec!.metrics![0]!.resource!.target.averageUtilization).to.equal(70);
      expect(deployment.spec!.replicas).to.equal(2);
      expect(desiredDisruptionBudget(cb)!.spec!.maxUnavailable).to.equal(1);
    });

    it('asks for 100Gi of ReadWriteMany SSD storage, since replicas may spread over nodes', () => {
      const claim = desiredClaim(cb, undefined)!;
      expect(claim.spec).to.deep.equal({
        accessModes: ['ReadWriteMany'],
        resources: { requests: { storage: '100Gi' } },
        storageClassName: 'ssd',
      });
      // retainOnDelete defaults to true: no owner, so deleting the ChatBot keeps the data.
      expect(claim.metadata!.ownerReferences).to.equal(undefined);
    });

    it('admits only the allowed network to the chat port', () => {
      const policy = desiredNetworkPolicy(cb) as unknown as {
        spec: { ingress: Array<{ from?: unknown; ports: unknown }> };
      };
      expect(policy.spec.ingress[0]).to.deep.equal({
        from: [{ ipBlock: { cidr: '10.20.0.0/16' } }],
        ports: [{ port: 18789, protocol: 'TCP' }],
      });
      expect(desiredService(cb).spec!.ports).to.deep.equal([
        { name: 'http', port: 18789, targetPort: 'http', protocol: 'TCP' },
      ]);
      expect(endpointOf(cb)).to.equal('http://bot.ns.svc:18789');
    });
  });

  it('leaves the replica count to the autoscaler once the Deployment exists', () => {
    const cb = resolvedChatBot(productionSpec);
    const live = (replicas: number) => ({ spec: { replicas, selector: {}, template: {} } });
    expect(desiredDeployment(cb, { ...ctx, live: live(7) }).spec!.replicas).to.equal(7);
    // ...but keeps it inside min..max when those change.
    expect(desiredDeployment(cb, { ...ctx, live: live(1) }).spec!.replicas).to.equal(2);
    expect(desiredDeployment(cb, { ...ctx, live: live(30) }).spec!.replicas).to.equal(10);
  });

  it('uses a fixed replica count without autoscaler or budget for one replica', () => {
    const cb = resolvedChatBot({
      model: { source: ggufSource, format: 'gguf' },
      scaling: { replicas: 1 },
    });
    expect(desiredAutoscaler(cb)).to.equal(undefined);
    expect(desiredDisruptionBudget(cb)).to.equal(undefined);
    expect(desiredNetworkPolicy(cb)).to.equal(undefined);
    expect(desiredDeployment(cb, ctx).spec!.replicas).to.equal(1);
    // One replica on a one-node volume: the old pod must release it before the new one starts.
    expect(desiredDeployment(cb, ctx).spec!.strategy).to.deep.equal({ type: 'Recreate' });
    expect(desiredClaim(cb, undefined)!.spec!.accessModes).to.deep.equal(['ReadWriteOnce']);
  });

  it('never shrinks an existing claim and only ever changes its size', () => {
    const cb = resolvedChatBot({
      model: { source: ggufSource, format: 'gguf' },
      storage: { size: '50Gi' },
    });
    const live = {
      spec: {
        accessModes: ['ReadWriteMany'],
        storageClassName: 'ssd',
        resources: { requests: { storage: '100Gi' } },
      },
      status: { phase: 'Bound' },
    };
    // The immutable fields are repeated as they are: an apply without them would remove them.
    expect(desiredClaim(cb, live)!.spec).to.deep.equal(live.spec);
    const bigger = resolvedChatBot({
      model: { source: ggufSource, format: 'gguf' },
      storage: { size: '200Gi' },
    });
    expect(desiredClaim(bigger, live)!.spec).to.deep.equal({
      ...live.spec,
      resources: { requests: { storage: '200Gi' } },
    });
    // An unbound claim cannot be resized yet: it keeps its request until it is bound.
    const pending = { ...live, status: { phase: 'Pending' } };
    expect(desiredClaim(bigger, pending)!.spec!.resources).to.deep.equal({
      requests: { storage: '100Gi' },
    });
  });

  it('mounts a model from a PVC read-only and skips the loader', () => {
    const cb = resolvedChatBot({
      model: { source: { pvc: { claimName: 'models', path: '/smollm2' } } },
    });
    const pod = desiredDeployment(cb, ctx).spec!.template.spec!;
    expect(pod.initContainers).to.equal(undefined);
    expect(pod.volumes).to.deep.include({
      name: 'model',
      persistentVolumeClaim: { claimName: 'models', readOnly: true },
    });
    expect(desiredConfigMap(cb).data!.MODEL_PATH).to.equal('/app/model/smollm2');
  });

  it('rolls the pods when the runtime configuration changes, not otherwise', () => {
    const hash = (spec: Record<string, unknown>) =>
      desiredDeployment(
        resolvedChatBot({ model: { source: ggufSource, format: 'gguf' }, ...spec }),
        ctx,
      ).spec!.template.metadata!.annotations!['clawbot.dev/config-hash'];
    expect(hash({})).to.equal(hash({}));
    expect(hash({ model: { source: ggufSource, format: 'gguf', maxTokens: 1024 } })).to.not.equal(
      hash({}),
    );
  });

  it('selects GPU nodes by product when asked', () => {
    const cb = resolvedChatBot({
      ...productionSpec,
      resources: { gpu: 2, gpuProduct: 'Tesla-T4' },
    });
    const pod = desiredDeployment(cb, ctx).spec!.template.spec!;
    expect(pod.nodeSelector).to.deep.equal({ 'nvidia.com/gpu.product': 'Tesla-T4' });
    expect(pod.containers[0]!.resources!.limits!['nvidia.com/gpu']).to.equal('2');
    // No spare GPU for a surge pod: replace one at a time.
    expect(desiredDeployment(cb, ctx).spec!.strategy!.rollingUpdate).to.deep.equal({
      maxSurge: 0,
      maxUnavailable: 1,
    });
  });

  it('pulls from a private registry with the pull secrets the spec names, and none otherwise', () => {
    const spec = {
      model: { source: { image: { reference: 'registry.example/models/smollm2:1' } } },
    };
    const pulling = resolvedChatBot({
      ...spec,
      runtime: { imagePullSecrets: [{ name: 'registry-credentials' }] },
    });
    expect(desiredDeployment(pulling, ctx).spec!.template.spec!.imagePullSecrets).to.deep.equal([
      { name: 'registry-credentials' },
    ]);
    const pod = desiredDeployment(resolvedChatBot(spec), ctx).spec!.template.spec!;
    expect(pod).to.not.have.property('imagePullSecrets');
  });

  describe('spread over nodes and zones', () => {
    const spreadOf = (scheduling?: Record<string, unknown>) =>
      desiredDeployment(
        resolvedChatBot({ ...productionSpec, ...(scheduling && { scheduling }) }),
        ctx,
      ).spec!.template.spec!.topologySpreadConstraints;
    const selector = {
      matchLabels: { 'app.kubernetes.io/name': 'clawbot', 'clawbot.dev/chatbot': 'bot' },
    };

    it('prefers one replica per node and per zone by default, so a one-node cluster still runs them all', () => {
      expect(spreadOf()).to.deep.equal([
        {
          maxSkew: 1,
          topologyKey: 'kubernetes.io/hostname',
          whenUnsatisfiable: 'ScheduleAnyway',
          labelSelector: selector,
          matchLabelKeys: ['pod-template-hash'],
        },
        {
          maxSkew: 1,
          topologyKey: 'topology.kubernetes.io/zone',
          whenUnsatisfiable: 'ScheduleAnyway',
          labelSelector: selector,
          matchLabelKeys: ['pod-template-hash'],
        },
      ]);
    });

    it('requires one replica per node when asked, zones staying a preference', () => {
      const [nodes, zones] = spreadOf({ topologySpread: 'Required' })!;
      expect(nodes!.whenUnsatisfiable).to.equal('DoNotSchedule');
      expect(zones!.whenUnsatisfiable).to.equal('ScheduleAnyway');
    });

    it('sets no constraints when turned off', () => {
      expect(spreadOf({ topologySpread: 'None' })).to.equal(undefined);
    });
  });

  describe('exposed outside the cluster', () => {
    const exposed = (expose: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      resolvedChatBot({ ...productionSpec, expose, ...extra });

    it('routes host, path /, to the chat port through an Ingress of the class asked for', () => {
      const ingress = desiredIngress(
        exposed({ host: 'chat.example.com', ingressClassName: 'nginx' }),
      )!;
      expect(ingress.spec).to.deep.equal({
        ingressClassName: 'nginx',
        rules: [
          {
            host: 'chat.example.com',
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: 'bot', port: { name: 'http' } } },
                },
              ],
            },
          },
        ],
      });
      // Streams pass through ingress-nginx unbuffered, and long answers are not cut at 60 s.
      expect(ingress.metadata!.annotations).to.include({
        'nginx.ingress.kubernetes.io/proxy-buffering': 'off',
        'nginx.ingress.kubernetes.io/proxy-read-timeout': '600',
      });
    });

    it('serves HTTPS with the named certificate, which cert-manager issues when an issuer is named', () => {
      const ingress = desiredIngress(
        exposed({
          host: 'chat.example.com',
          tls: {
            secretName: 'chat-tls',
            issuerRef: { name: 'letsencrypt', kind: 'ClusterIssuer' },
          },
        }),
      )!;
      expect(ingress.spec!.tls).to.deep.equal([
        { hosts: ['chat.example.com'], secretName: 'chat-tls' },
      ]);
      expect(ingress.metadata!.annotations).to.include({
        'cert-manager.io/cluster-issuer': 'letsencrypt',
      });
      const namespaced = desiredIngress(
        exposed({ host: 'chat.example.com', tls: { secretName: 't', issuerRef: { name: 'ca' } } }),
      )!;
      expect(namespaced.metadata!.annotations).to.include({ 'cert-manager.io/issuer': 'ca' });
    });

    it('has no Ingress unless exposed', () => {
      expect(desiredIngress(resolvedChatBot(productionSpec))).to.equal(undefined);
    });

    it('admits the ingress controller through the NetworkPolicy when client ranges are set', () => {
      const policy = desiredNetworkPolicy(
        exposed(
          {
            host: 'chat.example.com',
            controllerNamespaceSelector: { 'kubernetes.io/metadata.name': 'ingress-nginx' },
          },
          { network: { allowedCIDRs: ['10.0.0.0/8'] } },
        ),
      ) as unknown as { spec: { ingress: Array<{ from?: unknown[] }> } };
      expect(policy.spec.ingress[0]!.from).to.deep.equal([
        { ipBlock: { cidr: '10.0.0.0/8' } },
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } },
      ]);
    });
  });
});
