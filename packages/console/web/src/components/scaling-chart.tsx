import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { Text } from '@mantine/core';
import type { PlatformEvent } from '../api/types.js';

export interface ScalePoint {
  t: number;
  desired: number;
  ready: number;
}

/**
 * The next point of a function's scaling history after `e`: `scale` events set the desired count,
 * `instance.ready` adds a ready instance, a stop, crash or failure of a ready one takes it away.
 */
export function nextPoint(
  last: ScalePoint | undefined,
  e: PlatformEvent,
  readyIds: Set<string>,
): ScalePoint | undefined {
  const base = last ?? { t: 0, desired: 0, ready: 0 };
  const t = Date.parse(e.time);
  if (e.type === 'scale' && typeof e.to === 'number') return { ...base, t, desired: e.to };
  if (e.type === 'instance.ready' && e.instance) {
    readyIds.add(e.instance);
    return { ...base, t, ready: readyIds.size };
  }
  const gone = ['instance.stopping', 'instance.stopped', 'instance.crashed', 'instance.failed'];
  if (gone.includes(e.type) && e.instance && readyIds.delete(e.instance))
    return { ...base, t, ready: readyIds.size };
  return undefined;
}

export function ScalingChart({ points }: { points: ScalePoint[] }) {
  if (points.length === 0)
    return <Text c="dimmed">No scaling yet: the function has not been called since sprout dev started.</Text>;
  const now = Date.now();
  const data = [...points, { ...points[points.length - 1]!, t: now }];
  return (
    <div style={{ width: '100%', height: 220 }} aria-label="Scaling history chart" role="img">
      <ResponsiveContainer>
        <LineChart data={data}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis
            dataKey="t"
            type="number"
            scale="time"
            domain={['dataMin', 'dataMax']}
            tickFormatter={(t: number) => new Date(t).toLocaleTimeString()}
          />
          <YAxis allowDecimals={false} />
          <Tooltip labelFormatter={(t) => new Date(Number(t)).toLocaleTimeString()} />
          <Legend />
          <Line type="stepAfter" dataKey="desired" stroke="#228be6" dot={false} isAnimationActive={false} />
          <Line type="stepAfter" dataKey="ready" stroke="#40c057" dot={false} isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}
