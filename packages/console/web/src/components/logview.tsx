import { useEffect, useRef, useState } from 'react';
import { Badge, Group, ScrollArea, Switch, Text } from '@mantine/core';
import { followStream } from '../api/events.js';
import type { LogLine } from '../api/types.js';

/** A log line with where it came from, as the Logs page and a function's page show it. */
export interface LogRecord extends LogLine {
  function: string;
  /** The collector's tag for the function's lines: `fn.<namespace>.<name>`. */
  tag: string;
  level: string;
}

const PINO_LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/** The level of a line: a JSON line's `level` (name or pino number), else info on stdout, error on stderr. */
function levelOf(l: LogLine): string {
  if (l.line.startsWith('{')) {
    try {
      const v = (JSON.parse(l.line) as { level?: unknown }).level;
      if (typeof v === 'string') return v.toLowerCase();
      if (typeof v === 'number') return PINO_LEVELS[v] ?? String(v);
    } catch {
      // not JSON after all
    }
  }
  return l.stream === 'stderr' ? 'error' : 'info';
}

/**
 * Follows the functions' log lines (`/v1/functions/{name}/logs?follow=true`), the last `tail` of
 * each first, merged in time order; keeps the last 2,000.
 */
export function useLogLines(functions: { name: string; namespace?: string }[], follow: boolean, tail = 100) {
  const [lines, setLines] = useState<LogRecord[]>([]);
  const key = functions.map((f) => f.name).join('\n');
  useEffect(() => {
    setLines([]);
    if (!follow) return;
    const stops = functions.map((f) =>
      followStream(
        `/v1/functions/${encodeURIComponent(f.name)}/logs?follow=true&tail=${tail}`,
        (event, data) => {
          if (event !== 'log') return;
          try {
            const l = JSON.parse(data) as LogLine;
            const rec = {
              ...l,
              function: f.name,
              tag: `fn.${f.namespace ?? 'default'}.${f.name}`,
              level: levelOf(l),
            };
            setLines((old) => {
              const next = [...old, rec];
              if (old.length && old[old.length - 1]!.time > rec.time)
                next.sort((a, b) => a.time.localeCompare(b.time));
              return next.length > 2000 ? next.slice(-2000) : next;
            });
          } catch {
            // not a log line
          }
        },
      ),
    );
    return () => stops.forEach((s) => s());
  }, [key, follow, tail]);
  return lines;
}

export function LogList({ lines, showFunction }: { lines: LogRecord[]; showFunction?: boolean }) {
  const [stick, setStick] = useState(true);
  const viewport = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (stick) viewport.current?.scrollTo({ top: viewport.current.scrollHeight });
  }, [lines, stick]);
  return (
    <>
      <Group justify="end" mb={4}>
        <Switch
          size="xs"
          label="Stick to the end"
          checked={stick}
          onChange={(e) => setStick(e.currentTarget.checked)}
        />
      </Group>
      <ScrollArea h={360} viewportRef={viewport} type="auto" aria-label="Log lines" tabIndex={0}>
        {lines.length === 0 && <Text c="dimmed">No lines yet.</Text>}
        {lines.map((l, i) => (
          <Group key={`${l.time}-${l.instance}-${i}`} gap={6} wrap="nowrap" align="start" data-log-line>
            <Text ff="monospace" fz="xs" c="dimmed" style={{ whiteSpace: 'nowrap' }}>
              {l.time.slice(11, 23)}
            </Text>
            <Badge
              style={{ flexShrink: 0 }}
              size="xs"
              variant="light"
              color={
                l.level === 'error' || l.level === 'fatal' ? 'red' : l.level === 'warn' ? 'yellow' : 'gray'
              }
            >
              {l.level}
            </Badge>
            {showFunction && (
              <Text fz="xs" ff="monospace" c="blue" style={{ whiteSpace: 'nowrap' }}>
                {l.function}
              </Text>
            )}
            <Text ff="monospace" fz="xs" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
              {l.line}
            </Text>
          </Group>
        ))}
      </ScrollArea>
    </>
  );
}
