import { useEffect, useRef, useState } from 'react';
import { Badge, Button, Code, Group, Paper, ScrollArea, Select, Table, Text, TextInput } from '@mantine/core';
import type { ApiError } from '../api/client.js';
import { followStream } from '../api/events.js';
import { buildLogsPath, cancelBuild, listBuilds, listFunctions, startBuild } from '../api/routes.js';
import type { Build, BuildLogLine } from '../api/types.js';
import { useApi, useEvents } from '../api/use.js';
import { Empty, ErrorAlert, LiveBadge, PageTitle, Section } from '../components/common.js';

const PHASES = ['analyze', 'detect', 'restore', 'build', 'export'];
const STATUS_COLOR: Record<Build['status'], string> = {
  running: 'blue',
  succeeded: 'green',
  failed: 'red',
  cancelled: 'gray',
};

/** A build's log followed live (`/v1/builds/{id}/logs`): the lines, the phase now, until `end`. */
function useBuildLog(id: string | undefined) {
  const [lines, setLines] = useState<BuildLogLine[]>([]);
  const [done, setDone] = useState(false);
  useEffect(() => {
    setLines([]);
    setDone(false);
    if (!id) return;
    const seen = new Set<number>();
    const stop = followStream(buildLogsPath(id), (event, data) => {
      if (event === 'log') {
        const line = JSON.parse(data) as BuildLogLine;
        // A reconnect replays the log from the start: keep each line once.
        if (seen.has(line.n)) return;
        seen.add(line.n);
        setLines((l) => [...l, line]);
      } else if (event === 'end') {
        setDone(true);
        stop();
      }
    });
    return stop;
  }, [id]);
  return { lines, done };
}

function PhaseSteps({ build, lines }: { build: Build; lines: BuildLogLine[] }) {
  const reached = new Set([...build.phases.map((p) => p.name), ...lines.map((l) => l.phase ?? '')]);
  const now = build.status === 'running' ? (lines.at(-1)?.phase ?? build.phase) : undefined;
  return (
    <Group gap="xs" mb="sm" data-testid="build-phases">
      {PHASES.map((p) => (
        <Badge
          key={p}
          variant={p === now ? 'filled' : 'light'}
          color={reached.has(p) ? (p === now ? 'blue' : 'green') : 'gray'}
        >
          {p}
        </Badge>
      ))}
    </Group>
  );
}

/**
 * Builds under `sprout dev`: start one for a function (tag, output), follow its phases and log live,
 * cancel it, and list the builds with their images (tag, digest, where the image was written).
 */
export function BuildsPage() {
  const functions = useApi(listFunctions);
  const builds = useApi(listBuilds);
  const live = useEvents({
    types: ['build.started', 'build.phase', 'build.finished', 'build.failed'],
    reload: builds.reload,
  });
  const [fn, setFn] = useState<string | null>(null);
  const [tag, setTag] = useState('');
  const [output, setOutput] = useState<Build['output']>('store');
  const [selected, setSelected] = useState<string>();
  const [error, setError] = useState<ApiError>();
  const log = useBuildLog(selected);
  const bottom = useRef<HTMLDivElement>(null);
  useEffect(() => {
    // A block, not an arrow's value: Chromium's scrollIntoView returns a Promise, which React would
    // keep as the effect's cleanup and call at the next line ("is not a function"), unmounting the app.
    void bottom.current?.scrollIntoView({ block: 'nearest' });
  }, [log.lines.length]);
  useEffect(() => {
    if (log.done) builds.reload();
  }, [log.done]);
  const list = builds.data?.builds ?? [];
  const current = list.find((b) => b.id === selected);

  const start = () => {
    if (!fn) return;
    startBuild({ function: fn, output, ...(tag ? { tag } : {}) }).then(
      (b) => {
        setError(undefined);
        setSelected(b.id);
        builds.reload();
      },
      (e: ApiError) => setError(e),
    );
  };
  const cancel = (id: string) =>
    cancelBuild(id).then(
      () => builds.reload(),
      (e: ApiError) => setError(e),
    );

  return (
    <>
      <PageTitle right={<LiveBadge live={live} />}>Builds</PageTitle>
      <ErrorAlert error={error ?? builds.error ?? functions.error} />
      <Paper withBorder p="sm" mb="md">
        <Group align="end" wrap="wrap">
          <Select
            label="Function"
            placeholder="pick one"
            data={(functions.data?.functions ?? []).map((f) => f.name)}
            value={fn}
            onChange={setFn}
            w={220}
          />
          <TextInput
            label="Tag"
            placeholder="spec.image, else localhost/sprout/<name>:dev"
            value={tag}
            onChange={(e) => setTag(e.currentTarget.value)}
            w={320}
          />
          <Select
            label="Output"
            data={['store', 'oci-layout', 'docker-archive']}
            value={output}
            onChange={(v) => setOutput((v ?? 'store') as Build['output'])}
            w={160}
          />
          <Button onClick={start} disabled={!fn}>
            Build
          </Button>
        </Group>
      </Paper>
      {current && (
        <Section title={`Build ${current.id} of ${current.function}`}>
          <Group mb="xs">
            <Badge color={STATUS_COLOR[current.status]} data-testid="build-status">
              {current.status}
            </Badge>
            {current.status === 'running' && (
              <Button size="xs" color="red" variant="light" onClick={() => void cancel(current.id)}>
                Cancel
              </Button>
            )}
            {current.error && (
              <Text c="red" size="sm">
                {current.error.message}
              </Text>
            )}
          </Group>
          <PhaseSteps build={current} lines={log.lines} />
          <ScrollArea h={320} type="auto">
            <Code block data-testid="build-log">
              {log.lines.map((l) => `${l.text}\n`).join('')}
            </Code>
            <div ref={bottom} />
          </ScrollArea>
        </Section>
      )}
      <Section title="Builds and images">
        {list.length === 0 ? (
          <Empty>No builds yet. Pick a function and press Build.</Empty>
        ) : (
          <Table.ScrollContainer minWidth={720}>
            <Table highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>function</Table.Th>
                  <Table.Th>status</Table.Th>
                  <Table.Th>image</Table.Th>
                  <Table.Th>digest</Table.Th>
                  <Table.Th>started</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((b) => (
                  <Table.Tr key={b.id} onClick={() => setSelected(b.id)} style={{ cursor: 'pointer' }}>
                    <Table.Td>{b.function}</Table.Td>
                    <Table.Td>
                      <Badge color={STATUS_COLOR[b.status]} variant="light">
                        {b.status === 'running' ? (b.phase ?? 'running') : b.status}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      <Code>{b.tag}</Code>
                      {b.path && <Text size="xs">{b.path}</Text>}
                    </Table.Td>
                    <Table.Td>
                      <Code>{b.digest ? b.digest.slice(0, 19) : '—'}</Code>
                    </Table.Td>
                    <Table.Td>{new Date(b.startedAt).toLocaleTimeString()}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Section>
    </>
  );
}
