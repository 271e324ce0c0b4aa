import { createManifestValidator, vendoredCrdsDir } from '@sprout/kube';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { clusterInputsToConfig, parseConfig, renderClusterInput, renderManifests } from '../src/index.js';

// The upstream Fluent Operator CRDs, vendored in @sprout/kube.
const crds = vendoredCrdsDir();
const validator = createManifestValidator(crds);

const config = parseConfig(`
service:
  storage.path: /var/lib/collector
pipeline:
  inputs:
    - { name: opentelemetry, port: 4318, tag: otel, raw_traces: on, buffer_max_size: 8M, successful_response_code: 200 }
    - { name: http, port: 9880, tag_key: route, buffer_chunk_size: 1M, success_header: [X-A one, X-B two] }
    - { name: mqtt, port: 1884 }
    - { name: collectd, port: 25826, typesdb: /usr/share/collectd/types.db }
    - { name: nginx_metrics, host: nginx.default.svc, port: 8080, status_url: /stub }
    - { name: statsd, port: 8125 }
    - { name: syslog, mode: unix_udp, path: /run/log.sock, unix_perm: '0600', parser: syslog-rfc3164-local, buffer_chunk_size: 32000, tag: sys }
    - { name: tcp, port: 5170, format: none, separator: '||', buffer_size: 64, chunk_size: 32K, mem_buf_limit: 5M }
    - { name: forward, port: 24224, tag_prefix: 'fwd.', buffer_chunk_size: 2M, buffer_max_size: 8M }
  outputs:
    - { name: stdout, match: '*' }
`);

describe('Fluent Operator manifests', () => {
  it('renders a ClusterInput for each of the eight inputs and forward, valid against the upstream CRD', () => {
    for (const input of config.inputs) {
      const { manifest } = renderClusterInput(input);
      expect(validator.validate(manifest).issues, input.id).toEqual([]);
    }
  });

  it('maps fields with fluent-bit units and names, leaving defaults out', () => {
    const specs = config.inputs.map((i) => (renderClusterInput(i).manifest as { spec: unknown }).spec);
    expect(specs).toEqual([
      {
        openTelemetry: {
          port: 4318,
          tag: 'otel',
          rawTraces: true,
          bufferMaxSize: '8M',
          successfulResponseCode: 200,
        },
      },
      { http: { port: 9880, tagKey: 'route', bufferChunkSize: '1M', successfulHeader: 'X-A one, X-B two' } },
      // 1884 is our default but not fluent-bit's: ports are always written.
      { mqtt: { port: 1884 } },
      { collectd: { port: 25826 } },
      { nginx: { host: 'nginx.default.svc', port: 8080, statusURL: '/stub', nginxPlus: false } },
      { statsd: { port: 8125 } },
      {
        syslog: {
          port: 5140,
          path: '/run/log.sock',
          unixPerm: 600,
          parser: 'syslog-rfc3164-local',
          tag: 'sys',
        },
      },
      { tcp: { port: 5170, bufferSize: '64', format: 'none', separator: '||' } },
      { forward: { port: 24224, tagPrefix: 'fwd.', bufferchunkSize: '2M', bufferMaxSize: '8M' } },
    ]);
    const shared = parseConfig(
      'pipeline:\n  inputs:\n    - { name: forward, unix_path: /run/fwd.sock, shared_key: s3cret }\n',
    );
    const rendered = renderClusterInput(shared.inputs[0]!);
    expect((rendered.manifest as { spec: unknown }).spec).toEqual({
      forward: { port: 24224, unixPath: '/run/fwd.sock' },
    });
    expect(rendered.dropped).toEqual(['shared_key']);
    expect(validator.validate(rendered.manifest).issues).toEqual([]);
    expect(renderManifests(shared, { name: 'x', namespace: 'y' }).manifests.at(-1)!.spec).not.toHaveProperty(
      'ports',
    );
  });

  it('names what a ClusterInput cannot carry instead of dropping it silently', () => {
    const { dropped } = renderManifests(config, { name: 'edge', namespace: 'logging' });
    expect(dropped).toEqual({ 'tcp.0': ['mem_buf_limit'] });
    const tagged = parseConfig('pipeline:\n  inputs:\n    - { name: http, tag: web, ack: on }\n');
    expect(renderClusterInput(tagged.inputs[0]!).dropped).toEqual(['tag', 'ack']);
  });

  it('renders a Collector exposing the input ports, valid against the upstream CRD', () => {
    const { manifests } = renderManifests(config, { name: 'edge', namespace: 'logging' });
    const collector = manifests.at(-1)!;
    expect(validator.validate(collector).issues).toEqual([]);
    expect(collector).toMatchObject({
      kind: 'Collector',
      metadata: { name: 'edge', namespace: 'logging' },
      spec: { bufferPath: '/var/lib/collector' },
    });
    expect((collector.spec as { ports: unknown[] }).ports).toEqual([
      { name: 'opentelemetry-0', containerPort: 4318, protocol: 'TCP' },
      { name: 'http-0', containerPort: 9880, protocol: 'TCP' },
      { name: 'mqtt-0', containerPort: 1884, protocol: 'TCP' },
      { name: 'collectd-0', containerPort: 25826, protocol: 'UDP' },
      { name: 'statsd-0', containerPort: 8125, protocol: 'UDP' },
      { name: 'tcp-0', containerPort: 5170, protocol: 'TCP' },
      { name: 'forward-0', containerPort: 24224, protocol: 'TCP' },
    ]);
    for (const m of manifests) expect(validator.validate(m).valid).toBe(true);
  });

  it('reads the rendered ClusterInputs back as an equivalent collector config', () => {
    const { manifests } = renderManifests(config, { name: 'edge', namespace: 'logging' });
    const yaml = manifests
      .filter((m) => m.kind === 'ClusterInput')
      .map((m) => stringify(m))
      .join('---\n');
    const back = parseConfig(yaml);
    expect(back.inputs.map((i) => i.plugin.name)).toEqual(config.inputs.map((i) => i.plugin.name));
    back.inputs.forEach((i, n) => {
      const { tag: _a, ...want } = config.inputs[n]!.options as Record<string, unknown>;
      const { tag: _b, ...got } = i.options as Record<string, unknown>;
      expect(got, i.id).toEqual(want);
    });
    expect(back.outputs.map((o) => o.id)).toEqual(['stdout.0']);
  });

  it('refuses other kinds and unknown fields by name', () => {
    expect(() =>
      clusterInputsToConfig(
        'apiVersion: fluentbit.fluent.io/v1alpha2\nkind: ClusterOutput\nmetadata: { name: x }\n',
      ),
    ).toThrow(/only fluentbit.fluent.io\/v1alpha2 ClusterInput is read/);
    expect(() =>
      parseConfig(
        'apiVersion: fluentbit.fluent.io/v1alpha2\nkind: ClusterInput\nmetadata: { name: x }\nspec:\n  tcp: { prot: 1 }\n',
      ),
    ).toThrow(/document 1.spec.tcp.prot: unknown field 'prot'/);
    expect(() =>
      parseConfig(
        'apiVersion: fluentbit.fluent.io/v1alpha2\nkind: ClusterInput\nmetadata: { name: x }\nspec:\n  tail: { path: /x }\n',
      ),
    ).toThrow(/spec must hold exactly one of/);
  });
});
