import { Badge, Table, Text, Title } from '@mantine/core';
import type { PreflightCheck, PreflightReport } from './api.js';

const COLOR = { pass: 'green', warn: 'yellow', fail: 'red' } as const;

function Rows({ checks }: { checks: PreflightCheck[] }) {
  return (
    <>
      {checks.map((c) => (
        <Table.Tr key={c.id}>
          <Table.Td>{c.title}</Table.Td>
          <Table.Td style={{ whiteSpace: 'nowrap', width: '1%' }}>
            <Badge color={COLOR[c.status]} style={{ overflow: 'visible' }}>
              {c.status}
            </Badge>
          </Table.Td>
          <Table.Td>{c.detail}</Table.Td>
          <Table.Td>{c.fix ?? ''}</Table.Td>
        </Table.Tr>
      ))}
    </>
  );
}

function Head() {
  return (
    <Table.Thead>
      <Table.Tr>
        <Table.Th>Check</Table.Th>
        <Table.Th>Result</Table.Th>
        <Table.Th>Found</Table.Th>
        <Table.Th>Fix</Table.Th>
      </Table.Tr>
    </Table.Thead>
  );
}

/** The pre-flight's pass/warn/fail table: one per host, then the checks across hosts. */
export function PreflightTable({ report }: { report: PreflightReport }) {
  return (
    <>
      <Text component="div">
        Pre-flight:{' '}
        <Badge component="span" color={COLOR[report.status]}>
          {report.status}
        </Badge>{' '}
        ({report.durationMs} ms)
      </Text>
      {report.hosts.map((h) => (
        <div key={h.host}>
          <Title order={4} mt="md">
            {h.host} ({h.address}){' '}
            <Badge component="span" color={COLOR[h.status]}>
              {h.status}
            </Badge>
          </Title>
          <Table.ScrollContainer minWidth={640}>
            <Table aria-label={`Pre-flight of ${h.host}`}>
              <Head />
              <Table.Tbody>
                <Rows checks={h.checks} />
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </div>
      ))}
      <Title order={4} mt="md">
        Across hosts
      </Title>
      <Table.ScrollContainer minWidth={640}>
        <Table aria-label="Pre-flight across hosts">
          <Head />
          <Table.Tbody>
            <Rows checks={report.cluster} />
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </>
  );
}
