import { useEffect, useState } from 'react';
import { Anchor, Badge, Button, Group, Table, Text, Title } from '@mantine/core';
import { Link } from 'react-router';
import { clusters, type ClusterSummary, type RunRecord } from './api.js';
import { ErrorAlert } from '../components/common.js';

export function ClusterList() {
  const [list, setList] = useState<(ClusterSummary & { running: RunRecord | null })[]>();
  const [error, setError] = useState<Error>();
  useEffect(() => {
    clusters.list().then((r) => setList(r.clusters), setError);
  }, []);
  return (
    <>
      <Group justify="space-between" mb="md">
        <Title order={2}>Clusters</Title>
        <Group>
          <Button component={Link} to="import" variant="default">
            Import config
          </Button>
          <Button component={Link} to="new">
            Create cluster
          </Button>
        </Group>
      </Group>
      <ErrorAlert error={error} />
      {list && list.length === 0 && (
        <Text c="dimmed">
          No clusters yet. Create one with the wizard, or import a KubeKey config file (kind: Cluster,
          kubekey.kubesphere.io/v1alpha2) you already have.
        </Text>
      )}
      {list && list.length > 0 && (
        <Table.ScrollContainer minWidth={560}>
          <Table striped highlightOnHover aria-label="Clusters">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Nodes</Table.Th>
                <Table.Th>Kubernetes</Table.Th>
                <Table.Th>Network plugin</Table.Th>
                <Table.Th>Container manager</Table.Th>
                <Table.Th>Run</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.map((c) => (
                <Table.Tr key={c.name}>
                  <Table.Td>
                    <Anchor component={Link} to={encodeURIComponent(c.name)}>
                      {c.name}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>{c.nodes}</Table.Td>
                  <Table.Td>{c.kubernetesVersion}</Table.Td>
                  <Table.Td>{c.networkPlugin}</Table.Td>
                  <Table.Td>{c.containerManager}</Table.Td>
                  <Table.Td>
                    {c.running ? <Badge color="blue">{c.running.action} running</Badge> : '—'}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </>
  );
}
