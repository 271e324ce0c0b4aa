import { useEffect, useRef, useState } from 'react';
import { Anchor, Badge, Button, Code, Group, Stack, Text, Title } from '@mantine/core';
import { Link, useParams } from 'react-router';
import { clusters, type RunRecord } from './api.js';
import { ErrorAlert } from '../components/common.js';

const COLOR = {
  running: 'blue',
  succeeded: 'green',
  failed: 'red',
  cancelled: 'gray',
  interrupted: 'orange',
} as const;

/** One kk run: its output line by line as kk prints it (server-sent events), its outcome, cancel. */
export function RunLog() {
  const { name = '', id = '' } = useParams();
  const [record, setRecord] = useState<RunRecord>();
  const [lines, setLines] = useState<{ stream: string; text: string }[]>([]);
  const [error, setError] = useState<Error>();
  const bottom = useRef<HTMLDivElement>(null);
  useEffect(() => {
    clusters.run(name, id).then(setRecord, setError);
    setLines([]);
    const source = new EventSource(clusters.logUrl(name, id));
    source.addEventListener('line', (e) => {
      const line = JSON.parse((e as MessageEvent<string>).data) as { stream: string; text: string };
      setLines((l) => [...l, line]);
    });
    source.addEventListener('end', (e) => {
      setRecord(JSON.parse((e as MessageEvent<string>).data) as RunRecord);
      source.close();
    });
    source.onerror = () => source.close();
    return () => source.close();
  }, [name, id]);
  useEffect(() => {
    // Newer browsers return a promise from scrollIntoView; an effect must return nothing.
    void bottom.current?.scrollIntoView?.({ block: 'end' });
  }, [lines.length]);
  const cancel = () => clusters.cancel(name, id).then(setRecord, setError);
  return (
    <Stack>
      <Anchor component={Link} to={`/clusters/${encodeURIComponent(name)}`}>
        ← {name}
      </Anchor>
      <Title order={2}>Run {id}</Title>
      {record && (
        <Group>
          <Badge color={COLOR[record.status]} aria-label="Run status">
            {record.status}
          </Badge>
          <Code>{record.command}</Code>
          {record.exitCode !== undefined && <Text size="sm">exit status {String(record.exitCode)}</Text>}
          {record.durationMs !== undefined && (
            <Text size="sm">{(record.durationMs / 1000).toFixed(1)} s</Text>
          )}
          {record.status === 'running' && (
            <Button color="red" variant="light" onClick={() => void cancel()}>
              Cancel
            </Button>
          )}
        </Group>
      )}
      <ErrorAlert error={error} />
      <Code block aria-label="kk output" style={{ maxHeight: '60vh', overflow: 'auto' }}>
        {lines.length === 0 ? 'waiting for kk…' : lines.map((l) => l.text).join('\n')}
        <div ref={bottom} />
      </Code>
    </Stack>
  );
}
