import { useEffect, useState } from 'react';
import {
  Alert,
  Anchor,
  Button,
  Code,
  Group,
  Loader,
  ScrollArea,
  Stack,
  Stepper,
  Text,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { Link, useNavigate, useParams } from 'react-router';
import {
  WIZARD_STEPS,
  clusters,
  stepOf,
  formPath,
  type ClusterConfig,
  type ClusterOptions,
  type FieldIssue,
  type SavedCluster,
} from './api.js';
import { AddonsStep, ClusterStep, EtcdStep, NetworkStep, RegistryStep } from './ConfigSteps.js';
import { ErrorAlert } from '../components/common.js';
import { IssueList } from './IssueList.js';
import { HostsStep } from './HostsStep.js';

/** The create (and edit) wizard: one step per part of the Cluster config, checked by the server at each step. */
export function Wizard() {
  const { name } = useParams();
  const [options, setOptions] = useState<ClusterOptions>();
  const [error, setError] = useState<Error>();
  const [initial, setInitial] = useState<ClusterConfig>();
  useEffect(() => {
    clusters.options().then((o) => {
      setOptions(o);
      if (!name) setInitial(o.defaults);
    }, setError);
    if (name) clusters.get(name).then((s) => setInitial(s.config), setError);
  }, [name]);
  if (error) return <ErrorAlert error={error} />;
  if (!options || !initial) return <Loader aria-label="Loading" />;
  return <WizardForm options={options} initial={initial} editing={name !== undefined} />;
}

function WizardForm({
  options,
  initial,
  editing,
}: {
  options: ClusterOptions;
  initial: ClusterConfig;
  editing: boolean;
}) {
  const form = useForm<ClusterConfig>({ initialValues: initial });
  const [active, setActive] = useState(0);
  const [busy, setBusy] = useState(false);
  const [issues, setIssues] = useState<FieldIssue[]>([]);
  const [blocking, setBlocking] = useState<FieldIssue[]>([]);
  const [yaml, setYaml] = useState('');
  const [error, setError] = useState<Error>();
  const [saved, setSaved] = useState<SavedCluster>();
  const navigate = useNavigate();
  const last = WIZARD_STEPS.length - 1;

  /** Asks the server; shows every error inline; true when the step `upTo` (and those before) have none. */
  const check = async (upTo: number): Promise<boolean> => {
    const r = await clusters.validate(form.values);
    setIssues(r.issues);
    setYaml(r.yaml);
    const errors: Record<string, string> = {};
    for (const i of r.issues.filter((x) => x.severity === 'error')) {
      const key = formPath(i.path);
      errors[key] = errors[key] ? `${errors[key]}; ${i.message}` : i.message;
    }
    form.setErrors(errors);
    const steps = WIZARD_STEPS.map((s) => s.id);
    const blocking = r.issues.filter((i) => i.severity === 'error' && steps.indexOf(stepOf(i.path)) <= upTo);
    setBlocking(blocking);
    if (blocking.length > 0) setActive(Math.min(...blocking.map((i) => steps.indexOf(stepOf(i.path)))));
    return blocking.length === 0;
  };

  const next = async () => {
    setBusy(true);
    setError(undefined);
    try {
      if (await check(active)) setActive((a) => Math.min(a + 1, last));
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };

  const save = async () => {
    setBusy(true);
    setError(undefined);
    try {
      if (!(await check(last))) return;
      setSaved(editing ? await clusters.update(form.values) : await clusters.create(form.values));
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };

  const props = { form, options };
  const bodies = [
    <HostsStep key="hosts" form={form} editing={editing} arches={options.arches} />,
    <EtcdStep key="etcd" {...props} />,
    <ClusterStep key="cluster" {...props} />,
    <NetworkStep key="network" {...props} />,
    <RegistryStep key="registry" {...props} />,
    <AddonsStep key="addons" {...props} />,
    <Confirm
      key="confirm"
      yaml={yaml}
      warnings={issues.filter((i) => i.severity === 'warning')}
      saved={saved}
    />,
  ];

  return (
    <Stack>
      <Title order={2}>{editing ? `Edit ${initial.metadata.name}` : 'Create a cluster'}</Title>
      <Stepper active={active} onStepClick={(i) => (i < active ? setActive(i) : void next())} size="sm" wrap>
        {WIZARD_STEPS.map((s, i) => (
          <Stepper.Step key={s.id} label={s.title}>
            {bodies[i]}
          </Stepper.Step>
        ))}
      </Stepper>
      <IssueList issues={blocking} color="red" title="Fix these to go on" />
      <ErrorAlert error={error} />
      <Group justify="space-between">
        <Button
          variant="default"
          onClick={() => setActive((a) => Math.max(a - 1, 0))}
          disabled={active === 0 || busy}
        >
          Back
        </Button>
        {active < last && (
          <Button onClick={() => void next()} loading={busy}>
            Next
          </Button>
        )}
        {active === last && !saved && (
          <Button onClick={() => void save()} loading={busy}>
            Save cluster
          </Button>
        )}
        {saved && (
          <Button onClick={() => void navigate(`/clusters/${encodeURIComponent(saved.summary.name)}`)}>
            Open cluster
          </Button>
        )}
      </Group>
    </Stack>
  );
}

function Confirm({ yaml, warnings, saved }: { yaml: string; warnings: FieldIssue[]; saved?: SavedCluster }) {
  return (
    <Stack>
      <IssueList issues={warnings} color="yellow" title="Warnings" />
      <Text size="sm">
        The config kk will read. Passwords and keys are encrypted on the server when you save; the file keeps
        a reference in their place.
      </Text>
      <ScrollArea.Autosize mah={420}>
        <Code block aria-label="Cluster YAML">
          {saved ? saved.yaml : yaml}
        </Code>
      </ScrollArea.Autosize>
      {saved && (
        <Alert color="green" title="Saved">
          <Anchor href={clusters.yamlUrl(saved.summary.name)} download={`${saved.summary.name}.yaml`}>
            Download {saved.summary.name}.yaml
          </Anchor>{' '}
          or{' '}
          <Anchor component={Link} to={`/clusters/${encodeURIComponent(saved.summary.name)}`}>
            open the cluster
          </Anchor>{' '}
          to check its hosts and run kk.
        </Alert>
      )}
    </Stack>
  );
}
