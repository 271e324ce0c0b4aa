import { useRef, useState } from 'react';
import { useParams } from 'react-router';
import { Badge, Code, Grid, Group, Stack, Table, Text } from '@mantine/core';
import { functionSpec, getFunction } from '../api/routes.js';
import { useApi, useEvents } from '../api/use.js';
import { Empty, ErrorAlert, LiveBadge, PageTitle, Section } from '../components/common.js';
import { InvokePanel } from '../components/invoke.js';
import { LogList, useLogLines } from '../components/logview.js';
import { nextPoint, ScalingChart, type ScalePoint } from '../components/scaling-chart.js';
import { TriggerTable } from './triggers.js';

const STATE_COLOR: Record<string, string> = {
  ready: 'green',
  starting: 'blue',
  stopping: 'gray',
  crashed: 'red',
  failed: 'red',
};

export function FunctionPage() {
  const name = useParams().name ?? '';
  const { data: f, error, reload } = useApi(() => getFunction(name), [name]);
  const spec = useApi(() => functionSpec(name), [name]);
  const [points, setPoints] = useState<ScalePoint[]>([]);
  const ready = useRef(new Set<string>());
  const live = useEvents(
    {
      function: name,
      reload,
      onEvent: (e) =>
        setPoints((old) => {
          const p = nextPoint(old[old.length - 1], e, ready.current);
          return p ? [...old, p].slice(-500) : old;
        }),
    },
    [name],
  );
  const lines = useLogLines(
    f ? [{ name, ...(f.namespace ? { namespace: f.namespace } : {}) }] : [],
    f !== undefined,
  );
  return (
    <>
      <PageTitle right={<LiveBadge live={live} />}>{name}</PageTitle>
      <ErrorAlert error={error} />
      {f?.lastError && (
        <ErrorAlert
          error={Object.assign(new Error(f.lastError), { code: f.lastErrorCode ?? 'Last error' })}
        />
      )}
      {f && (
        <Stack>
          <Group gap="xs">
            <Badge variant="light">{f.namespace ?? 'default'}</Badge>
            <Badge variant="light">{f.engine}</Badge>
            <Badge variant="light" color="green" data-testid="ready-count">
              {f.readyReplicas} / {f.desiredReplicas} ready
            </Badge>
            <Badge variant="light">
              scale {f.scaling.minReplicas}–{f.scaling.maxReplicas} on {f.scaling.metric}
            </Badge>
            {f.address && (
              <Badge variant="light" color={f.address.status === 'allocated' ? 'teal' : 'yellow'}>
                {f.address.addresses.join(', ') || f.address.reason || f.address.status}
              </Badge>
            )}
          </Group>
          <Grid>
            <Grid.Col span={{ base: 12, md: 6 }}>
              <Section title="Instances">
                {f.instances.length === 0 ? (
                  <Empty>None running: the function is scaled to zero and starts on the next request.</Empty>
                ) : (
                  <Table.ScrollContainer minWidth={400}>
                    <Table aria-label="Instances">
                      <Table.Thead>
                        <Table.Tr>
                          <Table.Th>Id</Table.Th>
                          <Table.Th>State</Table.Th>
                          <Table.Th>Port</Table.Th>
                          <Table.Th>Started</Table.Th>
                        </Table.Tr>
                      </Table.Thead>
                      <Table.Tbody>
                        {f.instances.map((i) => (
                          <Table.Tr key={i.id}>
                            <Table.Td>
                              <Code>{i.id}</Code>
                            </Table.Td>
                            <Table.Td>
                              <Badge color={STATE_COLOR[i.state] ?? 'gray'} variant="light">
                                {i.state}
                              </Badge>
                            </Table.Td>
                            <Table.Td>{i.port}</Table.Td>
                            <Table.Td>{new Date(i.startedAt).toLocaleTimeString()}</Table.Td>
                          </Table.Tr>
                        ))}
                      </Table.Tbody>
                    </Table>
                  </Table.ScrollContainer>
                )}
              </Section>
            </Grid.Col>
            <Grid.Col span={{ base: 12, md: 6 }}>
              <Section title="Routes">
                {f.routes.length === 0 ? (
                  <Empty>No gateway route (reached through invoke only).</Empty>
                ) : (
                  f.routes.map((r) => (
                    <Text key={`${r.hosts.join(',')}${r.pathPrefix}`} ff="monospace" fz="sm">
                      {r.hosts.length ? r.hosts.join(', ') : '*'} {r.pathPrefix}
                      {r.headers ? ` ${JSON.stringify(r.headers)}` : ''}
                    </Text>
                  ))
                )}
              </Section>
            </Grid.Col>
          </Grid>
          {f.triggers && (
            <Section title="Triggers">
              <TriggerTable functions={[f]} />
            </Section>
          )}
          <Section title="Scaling history">
            <ScalingChart points={points} />
          </Section>
          <InvokePanel name={name} onDone={reload} />
          <Section title="Logs">
            <LogList lines={lines} />
          </Section>
          <Section title="function.yaml">
            <ErrorAlert error={spec.error} />
            {spec.data?.yaml !== undefined ? (
              <>
                <Text fz="xs" c="dimmed" mb={4}>
                  {spec.data.file}
                </Text>
                <Code block>{spec.data.yaml}</Code>
              </>
            ) : (
              spec.data && <Empty>A plain folder: no function.yaml ({f.source}).</Empty>
            )}
          </Section>
        </Stack>
      )}
    </>
  );
}
