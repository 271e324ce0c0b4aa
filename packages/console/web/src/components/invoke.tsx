import { useState } from 'react';
import {
  Button,
  Code,
  Group,
  Paper,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Textarea,
  Title,
} from '@mantine/core';
import { invokeFunction, type InvokeResult } from '../api/routes.js';
import { ErrorAlert } from './common.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

/** `Name: value` lines as a header object; blank and malformed lines are skipped. */
function parseHeaders(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

/** Sends a request to the function (through the platform API's invoke route) and shows its answer. */
export function InvokePanel({ name, onDone }: { name: string; onDone?: () => void }) {
  const [method, setMethod] = useState('GET');
  const [path, setPath] = useState('/');
  const [headers, setHeaders] = useState('');
  const [body, setBody] = useState('');
  const [result, setResult] = useState<InvokeResult>();
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const send = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const withBody = method !== 'GET' && method !== 'HEAD';
      setResult(
        await invokeFunction(name, {
          method,
          path,
          headers: parseHeaders(headers),
          ...(withBody && body ? { body } : {}),
        }),
      );
      onDone?.();
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Paper withBorder p="md">
      <Title order={4} mb="sm">
        Invoke
      </Title>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
      >
        <Stack gap="xs">
          <Group align="end" wrap="wrap">
            <Select
              label="Method"
              data={METHODS}
              value={method}
              onChange={(v) => setMethod(v ?? 'GET')}
              w={120}
              allowDeselect={false}
            />
            <TextInput
              label="Path"
              value={path}
              onChange={(e) => setPath(e.currentTarget.value)}
              style={{ flex: 1 }}
            />
          </Group>
          <Textarea
            label="Headers (one Name: value a line)"
            autosize
            minRows={1}
            value={headers}
            onChange={(e) => setHeaders(e.currentTarget.value)}
          />
          <Textarea
            label="Body"
            autosize
            minRows={2}
            value={body}
            onChange={(e) => setBody(e.currentTarget.value)}
          />
          <Group>
            <Button type="submit" loading={busy}>
              Send
            </Button>
          </Group>
        </Stack>
      </form>
      <ErrorAlert error={error} />
      {result && (
        <Stack gap="xs" mt="md" aria-label="Response">
          <Text>
            Status <Code data-testid="invoke-status">{result.status}</Code> in{' '}
            <Code data-testid="invoke-time">{result.ms.toFixed(1)} ms</Code>
          </Text>
          <Table fz="xs" withRowBorders={false}>
            <Table.Tbody>
              {result.headers.map(([k, v]) => (
                <Table.Tr key={k}>
                  <Table.Td>{k}</Table.Td>
                  <Table.Td style={{ wordBreak: 'break-all' }}>{v}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          <Code block data-testid="invoke-body">
            {result.body}
          </Code>
        </Stack>
      )}
    </Paper>
  );
}
