// `helm lint` on the chart as shipped and with every optional part switched on, in strict mode
// (warnings fail too).

import { expect } from 'chai';
import { chartDir, helm, withValues } from './helm.ts';

describe('chart: helm lint', function () {
  this.timeout(120_000);

  it('passes --strict with the default values', async () => {
    const out = await helm(['lint', '--strict', chartDir]);
    expect(out).to.match(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('passes --strict with namespaces listed and all monitoring on', async () => {
    const values = {
      watchNamespaces: ['team-a', 'team-b'],
      metrics: { serviceMonitor: { enabled: true }, podMonitor: { enabled: true } },
      prometheusRule: { enabled: true },
      dashboard: { enabled: true },
    };
    const out = await helm(withValues(['lint', '--strict', chartDir], values));
    expect(out).to.match(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });
});
