import { useMemo, useState } from 'react';
import { Group, MultiSelect, Paper, Select, Switch, TextInput } from '@mantine/core';
import { listFunctions } from '../api/routes.js';
import { useApi, useEvents } from '../api/use.js';
import { Empty, ErrorAlert, LiveBadge, PageTitle } from '../components/common.js';
import { LogList, useLogLines } from '../components/logview.js';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/**
 * Every function's output lines as the collector tags them (`fn.<namespace>.<name>`), merged and
 * followed live; filtered by tag, function and lowest level.
 */
export function LogsPage() {
  const { data, error, reload } = useApi(listFunctions);
  useEvents({ types: ['function.registered', 'function.unregistered'], reload });
  const [follow, setFollow] = useState(true);
  const [picked, setPicked] = useState<string[]>([]);
  const [tag, setTag] = useState('');
  const [level, setLevel] = useState<string | null>(null);
  const functions = useMemo(
    () =>
      (data?.functions ?? []).map((f) => ({
        name: f.name,
        ...(f.namespace ? { namespace: f.namespace } : {}),
      })),
    [data],
  );
  const lines = useLogLines(functions, follow);
  const min = level ? LEVELS.indexOf(level) : -1;
  const shown = lines.filter(
    (l) =>
      (picked.length === 0 || picked.includes(l.function)) &&
      (tag === '' || l.tag.includes(tag)) &&
      (min < 0 || LEVELS.indexOf(l.level) >= min),
  );
  return (
    <>
      <PageTitle right={<LiveBadge live={follow && functions.length > 0} />}>Logs</PageTitle>
      <ErrorAlert error={error} />
      <Group mb="sm" align="end" wrap="wrap">
        <MultiSelect
          label="Functions"
          placeholder="all"
          data={functions.map((f) => f.name)}
          value={picked}
          onChange={setPicked}
          clearable
          w={260}
        />
        <TextInput
          label="Tag"
          placeholder="fn.default."
          value={tag}
          onChange={(e) => setTag(e.currentTarget.value)}
        />
        <Select
          label="Level at least"
          placeholder="any"
          data={LEVELS}
          value={level}
          onChange={setLevel}
          clearable
          w={150}
        />
        <Switch label="Follow" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} />
      </Group>
      {data && functions.length === 0 ? (
        <Empty>No functions, so no lines.</Empty>
      ) : (
        <Paper withBorder p="sm">
          <LogList lines={shown} showFunction />
        </Paper>
      )}
    </>
  );
}
