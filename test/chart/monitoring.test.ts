// The chart's alerts and dashboard read series that really exist: every metric they query is one
// the runtime or the operator registers (with the labels they select on), or a named external
// exporter's; the monitors select the pods and ports the operator really creates.

import { expect } from 'chai';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import '../../operator/apikey/controller.ts'; // registers the ApiKey timestamp gauges
import { chatBotLabel } from '../../operator/chatbot/names.ts';
import { desiredDeployment } from '../../operator/chatbot/desired-deployment.ts';
import { resolvedChatBot, productionSpec } from '../support/chatbots.ts';
import { metricsRegistry } from '../../operator/kit/index.ts';
import { authRequestsCounter } from '../../runtime/auth/metrics.ts';
import { InFlight } from '../../runtime/server/in-flight.ts';
import { createServerMetrics } from '../../runtime/server/metrics.ts';
import { only, render } from './helm.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Labels Prometheus adds when it scrapes (target labels), not the metric's own. */
const scrapeLabels = new Set(['namespace', 'chatbot', 'pod', 'job', 'instance']);
/** Series of exporters that are not ClawBot's, which the dashboard names as such. */
const external = /^DCGM_/;

/** Every series name the code exposes, with the label names it may carry. */
function exportedSeries(): Map<string, Set<string>> {
  const runtime = new Registry();
  createServerMetrics(runtime, { loadedEngine: () => undefined, inFlight: new InFlight() });
  authRequestsCounter(runtime);
  const series = new Map<string, Set<string>>();
  for (const metric of [...runtime.getMetricsAsArray(), ...metricsRegistry.getMetricsAsArray()]) {
    // The registry hands back the metric objects themselves, which keep their label names.
    const { name, labelNames } = metric as unknown as { name: string; labelNames: string[] };
    const labels = new Set(labelNames);
    if (metric instanceof Histogram) {
      series.set(`${name}_bucket`, new Set([...labels, 'le']));
      series.set(`${name}_count`, labels);
      series.set(`${name}_sum`, labels);
    } else if (metric instanceof Counter || metric instanceof Gauge) {
      series.set(name, labels);
    }
  }
  return series;
}

interface Selector {
  metric: string;
  labels: string[];
}

/**
 * The metrics a PromQL expression reads, with the label names it matches them on: a name with a
 * {selector}, a name before a [range], or the first argument of Grafana's label_values(…).
 */
function selectors(expr: string): Selector[] {
  const found: Selector[] = [];
  for (const m of expr.matchAll(/([a-zA-Z_:][\w:]*)\s*(\{[^}]*\})?/g)) {
    const [whole, metric, braces] = m;
    const after = expr.slice(m.index + whole.length).trimStart();
    const named = /label_values\(\s*$/.test(expr.slice(0, m.index));
    if (braces === undefined && !after.startsWith('[') && !named) continue;
    const labels = [...(braces ?? '').matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1]!);
    found.push({ metric: metric!, labels });
  }
  return found;
}

/** Label names an expression aggregates or joins on: by (…), ignoring (…). */
const groupings = (expr: string) =>
  [...expr.matchAll(/\b(?:by|ignoring|on)\s*\(([^)]*)\)/g)].flatMap((m) =>
    m[1]!
      .split(',')
      .map((l) => l.trim())
      .filter(Boolean),
  );

describe('chart: alerts and dashboard read real series', function () {
  this.timeout(60_000);
  let objects: Json[];
  let series: Map<string, Set<string>>;
  let expressions: Array<{ where: string; expr: string }>;

  before(async () => {
    objects = await render(
      {
        metrics: { serviceMonitor: { enabled: true }, podMonitor: { enabled: true } },
        prometheusRule: { enabled: true },
        dashboard: { enabled: true },
      },
      { release: 'clawbot', namespace: 'clawbot-system' },
    );
    series = exportedSeries();
    const rules = (only(objects, 'PrometheusRule').spec.groups as Json[]).flatMap(
      (g) => g.rules as Json[],
    );
    const dashboard = JSON.parse(only(objects, 'ConfigMap').data['clawbot.json']) as Json;
    expressions = [
      ...rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr as string })),
      ...(dashboard.panels as Json[]).flatMap((p) =>
        (p.targets as Json[]).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr as string })),
      ),
      ...(dashboard.templating.list as Json[])
        .filter((v) => v.type === 'query')
        .map((v) => ({ where: `variable ${v.name}`, expr: v.query.query as string })),
    ];
  });

  it('queries only metrics the runtime or the operator export, on labels they carry', () => {
    const problems: string[] = [];
    for (const { where, expr } of expressions) {
      const used = selectors(expr);
      if (!used.length) problems.push(`${where}: no metric found in ${expr}`);
      for (const { metric, labels } of used) {
        if (external.test(metric)) continue;
        const known = series.get(metric);
        if (!known) {
          problems.push(`${where}: ${metric} is not exported`);
          continue;
        }
        for (const label of labels) {
          if (!known.has(label) && !scrapeLabels.has(label)) {
            problems.push(`${where}: ${metric} has no label ${label}`);
          }
        }
      }
      const carried = new Set([
        ...scrapeLabels,
        ...used.flatMap((s) => [...(series.get(s.metric) ?? [])]),
      ]);
      for (const label of groupings(expr)) {
        if (!carried.has(label)) problems.push(`${where}: groups by ${label}, which no series has`);
      }
    }
    expect(problems).to.deep.equal([]);
  });

  it('has the five alerts, and a dashboard with latency, errors, tokens, queue, GPU and keys', () => {
    const alerts = expressions.filter((e) => e.where.startsWith('alert')).map((e) => e.where);
    expect(alerts).to.deep.equal([
      'alert ClawBotHighLatencyP99',
      'alert ClawBotHighErrorRate',
      'alert ClawBotApiKeyRequestRateHigh',
      'alert ClawBotApiKeyRotationOverdue',
      'alert ClawBotOperatorReconcileErrors',
    ]);
    const uses = (panel: string, metric: string) =>
      expressions.some((e) => e.where === `panel "${panel}"` && e.expr.includes(metric));
    expect(uses('Request latency', 'clawbot_http_request_duration_seconds_bucket')).to.equal(true);
    expect(uses('Error rate', 'status=~"5.."')).to.equal(true);
    expect(uses('Tokens per second', 'clawbot_completion_tokens_total')).to.equal(true);
    expect(uses('Queue depth and batch', 'clawbot_engine_queue_depth')).to.equal(true);
    expect(uses('GPU use', 'DCGM_FI_DEV_GPU_UTIL')).to.equal(true);
    expect(uses('Requests per API key', 'clawbot_apikey_requests_total')).to.equal(true);
  });

  it("selects the operator's own series by the metrics Service's job", () => {
    const job = only(objects, 'Service').metadata.name as string;
    for (const name of ['ClawBotApiKeyRotationOverdue', 'ClawBotOperatorReconcileErrors']) {
      const { expr } = expressions.find((e) => e.where === `alert ${name}`)!;
      expect(expr).to.contain(`{job="${job}"}`);
    }
  });

  it('the PodMonitor selects the runtime pods the operator creates, on their health port', () => {
    const pod = desiredDeployment(resolvedChatBot(productionSpec), { defaultRuntimeImage: 'x' })
      .spec!.template;
    const monitor = only(objects, 'PodMonitor');
    expect(pod.metadata!.labels).to.deep.include(monitor.spec.selector.matchLabels);
    const endpoint = monitor.spec.podMetricsEndpoints[0] as Json;
    const runtime = pod.spec!.containers.find((c) => c.name === 'runtime')!;
    expect(runtime.ports!.map((p) => p.name)).to.include(endpoint.port);
    expect(endpoint.path).to.equal('/metrics');
    // Prometheus turns a pod label's name into [a-zA-Z0-9_] for its meta label.
    expect(endpoint.relabelings[0]).to.deep.equal({
      sourceLabels: [`__meta_kubernetes_pod_label_${chatBotLabel.replace(/[^a-zA-Z0-9_]/g, '_')}`],
      targetLabel: 'chatbot',
    });
    expect(pod.metadata!.labels![chatBotLabel]).to.equal('bot');
  });
});
