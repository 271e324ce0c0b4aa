import { Alert, Badge, Code, Group, Progress, Stack, Table, Text } from '@mantine/core';
import { eipEvents, listEipAllocations, listEipPools } from '../api/routes.js';
import { useApi, useEvents } from '../api/use.js';
import { Empty, ErrorAlert, LiveBadge, PageTitle, Section } from '../components/common.js';

/** EIP pools with their namespaces and usage, the allocations, and exhaustion warnings. */
export function AddressesPage() {
  const pools = useApi(listEipPools);
  const allocations = useApi(listEipAllocations);
  const events = useApi(eipEvents);
  const live = useEvents({
    types: ['address.allocated', 'address.pending', 'address.released', 'pool.exhausted'],
    reload: () => {
      pools.reload();
      allocations.reload();
      events.reload();
    },
  });
  const exhausted = pools.data?.pools.filter((p) => !p.disabled && p.free === 0) ?? [];
  const notServed = pools.error?.code === 'SPROUT_ERR_PLATFORM_NO_ROUTE';
  return (
    <>
      <PageTitle right={<LiveBadge live={live} />}>Addresses</PageTitle>
      {notServed ? (
        <Empty>EIP is off in this sprout dev (--no-eip): no address pools.</Empty>
      ) : (
        <ErrorAlert error={pools.error} />
      )}
      {exhausted.map((p) => (
        <Alert key={p.name} color="orange" title={`Pool ${p.name} is exhausted`} mb="sm" role="alert">
          All {p.size} addresses are in use; new services in {p.namespaces.join(', ') || 'its namespaces'}{' '}
          wait as pending. Widen the pool or add one (sprout eip apply).
        </Alert>
      ))}
      <Stack>
        <Section title="Pools">
          {pools.data && pools.data.pools.length === 0 && (
            <Empty>
              No pools. Apply an Eip with <Code>sprout eip apply -f pools.yaml</Code> or start with{' '}
              <Code>--eip</Code>.
            </Empty>
          )}
          {pools.data && pools.data.pools.length > 0 && (
            <Table.ScrollContainer minWidth={640}>
              <Table aria-label="Pools">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Name</Table.Th>
                    <Table.Th>Addresses</Table.Th>
                    <Table.Th>Protocol</Table.Th>
                    <Table.Th>Namespaces</Table.Th>
                    <Table.Th w={220}>Usage</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {pools.data.pools.map((p) => {
                    const pct = p.size ? (p.used / p.size) * 100 : 0;
                    return (
                      <Table.Tr key={p.name} data-pool={p.name}>
                        <Table.Td>
                          {p.name} {p.isDefault && <Badge size="xs">default</Badge>}{' '}
                          {p.disabled && (
                            <Badge size="xs" color="gray">
                              disabled
                            </Badge>
                          )}
                        </Table.Td>
                        <Table.Td>
                          <Code>{p.address}</Code>
                        </Table.Td>
                        <Table.Td>{p.protocol}</Table.Td>
                        <Table.Td>
                          <Group gap={4}>
                            {p.namespaces.map((n) => (
                              <Badge key={n} variant="light" size="sm">
                                {n}
                              </Badge>
                            ))}
                          </Group>
                        </Table.Td>
                        <Table.Td>
                          <Progress
                            value={pct}
                            color={pct >= 100 ? 'red' : pct >= 80 ? 'orange' : 'blue'}
                            aria-label={`${p.name} usage`}
                          />
                          <Text fz="xs" data-testid="pool-usage">
                            {p.used} of {p.size} used
                          </Text>
                        </Table.Td>
                      </Table.Tr>
                    );
                  })}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
        </Section>
        <Section title="Allocations">
          <ErrorAlert error={notServed ? undefined : allocations.error} />
          {allocations.data && allocations.data.allocations.length === 0 && (
            <Empty>No service holds an address.</Empty>
          )}
          {allocations.data && allocations.data.allocations.length > 0 && (
            <Table.ScrollContainer minWidth={500}>
              <Table aria-label="Allocations">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Service</Table.Th>
                    <Table.Th>Status</Table.Th>
                    <Table.Th>Addresses</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {allocations.data.allocations.map((a) => (
                    <Table.Tr key={a.key}>
                      <Table.Td>{a.key}</Table.Td>
                      <Table.Td>
                        <Badge color={a.status === 'allocated' ? 'teal' : 'yellow'} variant="light">
                          {a.status}
                        </Badge>
                      </Table.Td>
                      <Table.Td>
                        {a.addresses.map((x) => `${x.ip} (${x.pool})`).join(', ')}
                        {a.condition && (
                          <Text fz="xs" c="dimmed">
                            {a.condition.reason}: {a.condition.message}
                          </Text>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
        </Section>
        {events.data && events.data.events.length > 0 && (
          <Section title="Recent events">
            {events.data.events.map((e) => (
              <Text key={e.id} fz="sm">
                <Badge size="xs" color={e.type === 'exhausted' ? 'orange' : 'gray'} mr={6}>
                  {e.type}
                </Badge>
                {new Date(e.at).toLocaleString()} {e.message}
              </Text>
            ))}
          </Section>
        )}
      </Stack>
    </>
  );
}
