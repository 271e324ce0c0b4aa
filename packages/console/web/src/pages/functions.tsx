import { memo, useState } from 'react';
import { Link } from 'react-router';
import { Anchor, Badge, Code, Table, Text, Tooltip } from '@mantine/core';
import { functionStats, parseMetrics, type FunctionStats } from '../api/metrics.js';
import { useLiveFunctions } from '../api/live-functions.js';
import { metricsText } from '../api/routes.js';
import { useInterval } from '../api/use.js';
import { Empty, ErrorAlert, LiveBadge, PageTitle } from '../components/common.js';
import type { FunctionStatus, FunctionView } from '../api/types.js';

export function FunctionsPage() {
  const [stats, setStats] = useState(new Map<string, FunctionStats>());
  const readStats = () =>
    metricsText().then(
      (t) => setStats((before) => functionStats(parseMetrics(t), before)),
      () => undefined,
    );
  // Rows follow the events; a cold start also reads the gateway's counters at once.
  const { data, error, statuses, live } = useLiveFunctions((coldStart) => {
    if (coldStart) void readStats();
  });
  useInterval(() => void readStats(), 2000);
  return (
    <>
      <PageTitle right={<LiveBadge live={live} />}>Functions</PageTitle>
      <ErrorAlert error={error} />
      {data?.problems.map((p) => (
        <ErrorAlert key={p.message} error={Object.assign(new Error(p.message), { code: p.code })} />
      ))}
      {data && data.functions.length === 0 && (
        <Empty>
          No functions registered. Start one with <Code>sprout dev path/to/function</Code>.
        </Empty>
      )}
      {data && data.functions.length > 0 && (
        <Table.ScrollContainer minWidth={640}>
          <Table striped highlightOnHover aria-label="Functions">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Namespace</Table.Th>
                <Table.Th>Replicas</Table.Th>
                <Table.Th>Ready</Table.Th>
                <Table.Th>Cold starts</Table.Th>
                <Table.Th>Req/s</Table.Th>
                <Table.Th>
                  <Tooltip label="Request duration at the gateway, 99th percentile of the requests since the last reading (every 2 s)">
                    <span>p99</span>
                  </Tooltip>
                </Table.Th>
                <Table.Th>Restarts</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.functions.map((f) => {
                const s = stats.get(f.name);
                return (
                  <FunctionRow
                    key={f.name}
                    f={f}
                    status={statuses.get(f.name)}
                    coldStarts={s?.coldStarts ?? 0}
                    rate={s?.rate ?? 0}
                    p99={s?.p99}
                  />
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </>
  );
}

/** A duration in seconds as the table shows it: ms below a second. */
function formatSeconds(s: number): string {
  return s < 1 ? `${Math.round(s * 1000)} ms` : `${s.toFixed(2)} s`;
}

interface RowProps {
  f: FunctionView;
  /** The counts from the function's latest event, newer than `f`. */
  status: FunctionStatus | undefined;
  coldStarts: number;
  rate: number;
  p99: number | undefined;
}

/**
 * One function's row; re-rendered only when what it shows changed (an event changes one row's
 * `status`; a list read again gives every row a new `f`, mostly equal to the one before).
 */
const FunctionRow = memo(
  function FunctionRow({ f, status, coldStarts, rate, p99 }: RowProps) {
    const s = status ?? f;
    return (
      <Table.Tr data-function={f.name}>
        <Table.Td>
          <Anchor component={Link} to={`/functions/${encodeURIComponent(f.name)}`}>
            {f.name}
          </Anchor>
          {s.lastErrorCode && (
            <Badge color="red" ml="xs" variant="light" title={s.lastError}>
              {s.lastErrorCode}
            </Badge>
          )}
        </Table.Td>
        <Table.Td>{f.namespace ?? 'default'}</Table.Td>
        <Table.Td data-col="replicas">{s.desiredReplicas}</Table.Td>
        <Table.Td data-col="ready">{s.readyReplicas}</Table.Td>
        <Table.Td data-col="cold-starts">{coldStarts}</Table.Td>
        <Table.Td data-col="rate">{rate.toFixed(2)}</Table.Td>
        <Table.Td data-col="p99">
          {p99 === undefined ? (
            <Text c="dimmed" span>
              —
            </Text>
          ) : (
            formatSeconds(p99)
          )}
        </Table.Td>
        <Table.Td data-col="restarts">{s.restarts}</Table.Td>
      </Table.Tr>
    );
  },
  (a, b) =>
    a.coldStarts === b.coldStarts &&
    a.rate === b.rate &&
    a.p99 === b.p99 &&
    a.status === b.status &&
    (a.f === b.f || JSON.stringify(a.f) === JSON.stringify(b.f)),
);
