import { Anchor, Code, Table, Text } from '@mantine/core';
import { Link } from 'react-router';
import { listFunctions } from '../api/routes.js';
import type { FunctionView } from '../api/types.js';
import { useApi, useEvents } from '../api/use.js';
import { Empty, ErrorAlert, LiveBadge, PageTitle } from '../components/common.js';

/** One row per trigger of each async function: the lag scaler's last lag and the delivery counts. */
export function TriggerTable({
  functions,
  showFunction,
}: {
  functions: FunctionView[];
  showFunction?: boolean;
}) {
  const rows = functions.flatMap((f) =>
    Object.entries(f.triggers ?? {}).map(([trigger, c]) => ({ f, trigger, c })),
  );
  return (
    <Table.ScrollContainer minWidth={640}>
      <Table striped aria-label="Triggers">
        <Table.Thead>
          <Table.Tr>
            {showFunction && <Table.Th>Function</Table.Th>}
            <Table.Th>Trigger</Table.Th>
            <Table.Th>Lag</Table.Th>
            <Table.Th>In flight</Table.Th>
            <Table.Th>Delivered</Table.Th>
            <Table.Th>Retried</Table.Th>
            <Table.Th>Failed</Table.Th>
            <Table.Th>Dead-lettered</Table.Th>
            <Table.Th>Dropped</Table.Th>
            <Table.Th>Reconnects</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map(({ f, trigger, c }) => (
            <Table.Tr key={`${f.name}/${trigger}`}>
              {showFunction && (
                <Table.Td>
                  <Anchor component={Link} to={`/functions/${encodeURIComponent(f.name)}`}>
                    {f.name}
                  </Anchor>
                </Table.Td>
              )}
              <Table.Td>
                <Code>{trigger}</Code>
              </Table.Td>
              <Table.Td>
                {c.lag ?? (
                  <Text span c="dimmed">
                    ?
                  </Text>
                )}
              </Table.Td>
              <Table.Td>{c.inFlight}</Table.Td>
              <Table.Td>{c.delivered}</Table.Td>
              <Table.Td>{c.retried}</Table.Td>
              <Table.Td>{c.failed}</Table.Td>
              <Table.Td c={c.deadLettered ? 'red' : undefined}>{c.deadLettered}</Table.Td>
              <Table.Td>{c.dropped}</Table.Td>
              <Table.Td>{c.reconnects ?? 0}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

export function TriggersPage() {
  const { data, error, reload } = useApi(listFunctions);
  const live = useEvents({ types: ['triggers', 'function.registered', 'function.unregistered'], reload });
  const asyncFns = data?.functions.filter((f) => f.triggers && Object.keys(f.triggers).length) ?? [];
  return (
    <>
      <PageTitle right={<LiveBadge live={live} />}>Triggers</PageTitle>
      <ErrorAlert error={error} />
      {data && asyncFns.length === 0 && (
        <Empty>
          No async functions: a function with <Code>serving.triggers.dapr</Code> in its function.yaml shows
          its inputs here.
        </Empty>
      )}
      {asyncFns.length > 0 && <TriggerTable functions={asyncFns} showFunction />}
    </>
  );
}
