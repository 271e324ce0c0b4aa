import { useCallback, useEffect, useState } from 'react';
import { Anchor, Badge, Button, Group, Modal, Select, Stack, Table, Text, Title } from '@mantine/core';
import { Link, useNavigate, useParams } from 'react-router';
import {
  clusters,
  type ClusterOptions,
  type PreflightReport,
  type RunRecord,
  type SavedCluster,
} from './api.js';
import { ErrorAlert } from '../components/common.js';
import { IssueList } from './IssueList.js';
import { PreflightTable } from './PreflightTable.js';

type Dialog = 'delete-node' | 'upgrade' | 'delete' | 'remove' | undefined;

/** A saved cluster: its config's issues, pre-flight, the kk flows, and its runs. */
export function ClusterDetail() {
  const { name = '' } = useParams();
  const [saved, setSaved] = useState<SavedCluster>();
  const [options, setOptions] = useState<ClusterOptions>();
  const [runs, setRuns] = useState<RunRecord[]>([]);
  const [report, setReport] = useState<PreflightReport>();
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const [dialog, setDialog] = useState<Dialog>();
  const [node, setNode] = useState<string | null>(null);
  const [version, setVersion] = useState<string | null>(null);
  const navigate = useNavigate();
  const load = useCallback(() => {
    clusters.get(name).then(setSaved, setError);
    clusters.runs(name).then((r) => setRuns(r.runs), setError);
  }, [name]);
  useEffect(() => {
    load();
    clusters.options().then(setOptions, setError);
  }, [load]);

  const act = async (f: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await f();
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  const start = (action: string, params: { node?: string; version?: string } = {}) =>
    act(async () => {
      const run = await clusters.start(name, action, params);
      setDialog(undefined);
      void navigate(`/clusters/${encodeURIComponent(name)}/runs/${run.id}`);
    });

  if (!saved) return error ? <ErrorAlert error={error} /> : null;
  const errors = saved.issues.filter((i) => i.severity === 'error');
  const s = saved.summary;
  return (
    <Stack>
      <Anchor component={Link} to="/clusters">
        ← Clusters
      </Anchor>
      <Group justify="space-between">
        <Title order={2}>{s.name}</Title>
        <Group>
          <Button component={Link} to="edit" variant="default">
            Edit / add nodes
          </Button>
          <Button component="a" href={clusters.yamlUrl(name)} download={`${name}.yaml`} variant="default">
            Download YAML
          </Button>
        </Group>
      </Group>
      <Text>
        {s.nodes} nodes · Kubernetes {s.kubernetesVersion} · {s.networkPlugin} · {s.containerManager}
      </Text>
      <IssueList
        issues={errors}
        color="red"
        title="The config has errors: fix them in Edit before running kk"
      />
      <ErrorAlert error={error} />
      <Group>
        <Button
          onClick={() => void act(async () => setReport(await clusters.preflight(name)))}
          loading={busy}
          variant="light"
        >
          Run pre-flight
        </Button>
        <Button onClick={() => void start('create')} disabled={busy}>
          Create cluster (kk)
        </Button>
        <Button onClick={() => void start('add-nodes')} disabled={busy} variant="default">
          Add nodes
        </Button>
        <Button onClick={() => setDialog('delete-node')} disabled={busy} variant="default">
          Delete node
        </Button>
        <Button onClick={() => setDialog('upgrade')} disabled={busy} variant="default">
          Upgrade
        </Button>
        <Button onClick={() => setDialog('delete')} disabled={busy} color="red" variant="light">
          Delete cluster
        </Button>
        <Button onClick={() => setDialog('remove')} disabled={busy} color="red" variant="subtle">
          Forget config
        </Button>
      </Group>
      <Text size="sm" c="dimmed">
        Add nodes: add the hosts in Edit first, then run it. Each action runs kk on this server with the saved
        config; one run at a time per cluster.
      </Text>
      {report && <PreflightTable report={report} />}
      <Title order={3}>Runs</Title>
      {runs.length === 0 ? (
        <Text c="dimmed">No kk runs yet.</Text>
      ) : (
        <Table.ScrollContainer minWidth={480}>
          <Table aria-label="Runs">
            <Table.Tbody>
              {runs.map((r) => (
                <Table.Tr key={r.id}>
                  <Table.Td>
                    <Anchor component={Link} to={`runs/${r.id}`}>
                      {r.id}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>{r.action}</Table.Td>
                  <Table.Td>
                    <Badge
                      color={
                        {
                          running: 'blue',
                          succeeded: 'green',
                          failed: 'red',
                          cancelled: 'gray',
                          interrupted: 'orange',
                        }[r.status]
                      }
                    >
                      {r.status}
                    </Badge>
                  </Table.Td>
                  <Table.Td>{r.exitCode ?? ''}</Table.Td>
                  <Table.Td>
                    {r.durationMs !== undefined ? `${(r.durationMs / 1000).toFixed(1)} s` : ''}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Modal opened={dialog === 'delete-node'} onClose={() => setDialog(undefined)} title="Delete a node">
        <Select
          label="Node"
          data={saved.config.spec.hosts.map((h) => h.name)}
          value={node}
          onChange={setNode}
        />
        <Button
          mt="md"
          color="red"
          disabled={!node || busy}
          onClick={() => void start('delete-node', { node: node ?? '' })}
        >
          Run kk delete node
        </Button>
      </Modal>
      <Modal opened={dialog === 'upgrade'} onClose={() => setDialog(undefined)} title="Upgrade Kubernetes">
        <Select
          label="To version"
          searchable
          data={[...(options?.kubernetesVersions ?? [])].reverse()}
          value={version}
          onChange={setVersion}
        />
        <Button
          mt="md"
          disabled={!version || busy}
          onClick={() => void start('upgrade', { version: version ?? '' })}
        >
          Run kk upgrade
        </Button>
      </Modal>
      <Modal
        opened={dialog === 'delete'}
        onClose={() => setDialog(undefined)}
        title={`Delete cluster ${name}?`}
      >
        <Text>kk removes Kubernetes from every host of {name}. The saved config stays.</Text>
        <Button mt="md" color="red" disabled={busy} onClick={() => void start('delete')}>
          Run kk delete cluster
        </Button>
      </Modal>
      <Modal opened={dialog === 'remove'} onClose={() => setDialog(undefined)} title={`Forget ${name}?`}>
        <Text>
          Removes the saved config, its stored passwords and its run logs from this console. The hosts are not
          touched.
        </Text>
        <Button
          mt="md"
          color="red"
          disabled={busy}
          onClick={() => void act(async () => (await clusters.remove(name), void navigate('/clusters')))}
        >
          Forget config
        </Button>
      </Modal>
    </Stack>
  );
}
