import {
  ActionIcon,
  Button,
  Fieldset,
  Group,
  NumberInput,
  PasswordInput,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  TagsInput,
  Text,
  TextInput,
} from '@mantine/core';
import type { ClusterOptions } from './api.js';
import { errorsUnder, type ClusterForm } from './form.js';

interface StepProps {
  form: ClusterForm;
  options: ClusterOptions;
}

const LABELS: Record<string, string> = { kubeovn: 'Kube-OVN', none: 'None (bring your own CNI)' };

export function EtcdStep({ form, options }: StepProps) {
  const external = form.values.spec.etcd?.type === 'external';
  return (
    <Stack>
      <Select
        label="etcd type"
        description="kubekey: etcd as systemd services on the etcd hosts; kubeadm: static pods; external: an etcd you run"
        data={options.etcdTypes}
        allowDeselect={false}
        {...form.getInputProps('spec.etcd.type')}
      />
      {external && (
        <>
          <TagsInput
            label="Endpoints"
            description="https://host:2379, Enter after each"
            {...form.getInputProps('spec.etcd.external.endpoints')}
            error={errorsUnder(form, 'spec.etcd.external.endpoints')}
          />
          <SimpleGrid cols={{ base: 1, sm: 3 }}>
            <TextInput label="CA file" {...form.getInputProps('spec.etcd.external.caFile')} />
            <TextInput label="Cert file" {...form.getInputProps('spec.etcd.external.certFile')} />
            <TextInput label="Key file" {...form.getInputProps('spec.etcd.external.keyFile')} />
          </SimpleGrid>
        </>
      )}
      {!external && (
        <Text size="sm" c="dimmed">
          The etcd hosts are those ticked “etcd” in the Hosts step.
        </Text>
      )}
    </Stack>
  );
}

export function ClusterStep({ form, options }: StepProps) {
  return (
    <Stack>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <Select
          label="Kubernetes version"
          searchable
          data={[...options.kubernetesVersions].reverse()}
          allowDeselect={false}
          {...form.getInputProps('spec.kubernetes.version')}
        />
        <TextInput label="Cluster DNS name" {...form.getInputProps('spec.kubernetes.clusterName')} />
      </SimpleGrid>
      <div>
        <Text size="sm" fw={500}>
          Container manager
        </Text>
        <SegmentedControl
          aria-label="Container manager"
          data={options.containerManagers}
          {...form.getInputProps('spec.kubernetes.containerManager')}
        />
        {form.errors['spec.kubernetes.containerManager'] && (
          <Text c="red" size="sm">
            {form.errors['spec.kubernetes.containerManager']}
          </Text>
        )}
      </div>
      <Switch
        label="Renew control-plane certificates automatically"
        {...form.getInputProps('spec.kubernetes.autoRenewCerts', { type: 'checkbox' })}
      />
      <Fieldset legend="Control-plane endpoint">
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <Select
            label="Internal load balancer"
            data={[
              { value: '', label: 'None' },
              { value: 'haproxy', label: 'haproxy' },
              { value: 'kube-vip', label: 'kube-vip' },
            ]}
            allowDeselect={false}
            {...form.getInputProps('spec.controlPlaneEndpoint.internalLoadbalancer')}
            value={form.values.spec.controlPlaneEndpoint?.internalLoadbalancer ?? ''}
          />
          <TextInput label="Domain" {...form.getInputProps('spec.controlPlaneEndpoint.domain')} />
          <TextInput
            label="Address"
            description="A load balancer's address (a VIP with kube-vip); empty for none"
            {...form.getInputProps('spec.controlPlaneEndpoint.address')}
          />
          <NumberInput
            label="Port"
            min={1}
            max={65535}
            {...form.getInputProps('spec.controlPlaneEndpoint.port')}
          />
        </SimpleGrid>
      </Fieldset>
    </Stack>
  );
}

export function NetworkStep({ form, options }: StepProps) {
  return (
    <Stack>
      <Select
        label="Network plugin"
        data={options.networkPlugins.map((p) => ({ value: p, label: LABELS[p] ?? p }))}
        allowDeselect={false}
        {...form.getInputProps('spec.network.plugin')}
      />
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <TextInput
          label="Pod CIDR"
          description="IPv4, or IPv4,IPv6 for dual stack"
          {...form.getInputProps('spec.network.kubePodsCIDR')}
        />
        <TextInput
          label="Service CIDR"
          description="Must not overlap the pod CIDR"
          {...form.getInputProps('spec.network.kubeServiceCIDR')}
        />
      </SimpleGrid>
    </Stack>
  );
}

export function RegistryStep({ form }: StepProps) {
  const auths = form.values.spec.registry?.auths ?? {};
  const entries = Object.entries(auths);
  const setAuths = (next: [string, Record<string, unknown>][]) =>
    form.setFieldValue('spec.registry.auths', next.length > 0 ? Object.fromEntries(next) : undefined);
  return (
    <Stack>
      <TagsInput
        label="Registry mirrors"
        description="https://mirror.example.com, Enter after each"
        {...form.getInputProps('spec.registry.registryMirrors')}
        error={errorsUnder(form, 'spec.registry.registryMirrors')}
      />
      <TagsInput
        label="Insecure registries"
        description="host:port reached over plain HTTP"
        {...form.getInputProps('spec.registry.insecureRegistries')}
        error={errorsUnder(form, 'spec.registry.insecureRegistries')}
      />
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <TextInput
          label="Private registry"
          description="Where every image is pulled from (offline installs)"
          {...form.getInputProps('spec.registry.privateRegistry')}
        />
        <TextInput label="Namespace override" {...form.getInputProps('spec.registry.namespaceOverride')} />
      </SimpleGrid>
      <Text size="sm" fw={500}>
        Registry logins
      </Text>
      {entries.map(([host, a], i) => (
        <Group key={i} align="end" wrap="wrap">
          <TextInput
            label="Registry"
            value={host}
            onChange={(e) => setAuths(entries.map((x, j) => (j === i ? [e.currentTarget.value, x[1]] : x)))}
            error={form.errors[`spec.registry.auths.${host}`]}
          />
          <TextInput
            label="Username"
            value={String(a.username ?? '')}
            onChange={(e) =>
              setAuths(
                entries.map((x, j) => (j === i ? [x[0], { ...x[1], username: e.currentTarget.value }] : x)),
              )
            }
          />
          <PasswordInput
            label="Password"
            value={String(a.password ?? '')}
            onChange={(e) =>
              setAuths(
                entries.map((x, j) => (j === i ? [x[0], { ...x[1], password: e.currentTarget.value }] : x)),
              )
            }
            error={form.errors[`spec.registry.auths.${host}.password`]}
          />
          <ActionIcon
            variant="subtle"
            color="red"
            aria-label={`Remove login ${i + 1}`}
            onClick={() => setAuths(entries.filter((_, j) => j !== i))}
            mb={4}
          >
            ✕
          </ActionIcon>
        </Group>
      ))}
      <Group>
        <Button
          variant="default"
          onClick={() =>
            setAuths([
              ...entries,
              [`registry${entries.length + 1}.example.com`, { username: '', password: '' }],
            ])
          }
        >
          Add login
        </Button>
      </Group>
    </Stack>
  );
}

export function AddonsStep({ form }: StepProps) {
  const addons = form.values.spec.addons ?? [];
  return (
    <Stack>
      {addons.length === 0 && (
        <Text c="dimmed">No add-ons: KubeKey installs Kubernetes and the network plugin only.</Text>
      )}
      {addons.map((a, i) => {
        const kind = a.sources?.yaml ? 'yaml' : 'chart';
        return (
          <Fieldset key={i} legend={`Add-on ${i + 1}`}>
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <TextInput label="Name" {...form.getInputProps(`spec.addons.${i}.name`)} />
              <TextInput label="Namespace" {...form.getInputProps(`spec.addons.${i}.namespace`)} />
            </SimpleGrid>
            <SegmentedControl
              my="sm"
              aria-label={`Source of add-on ${i + 1}`}
              data={[
                { value: 'chart', label: 'Helm chart' },
                { value: 'yaml', label: 'YAML' },
              ]}
              value={kind}
              onChange={(v) =>
                form.setFieldValue(
                  `spec.addons.${i}.sources`,
                  v === 'yaml' ? { yaml: { path: [] } } : { chart: { name: '', repo: '' } },
                )
              }
            />
            {kind === 'chart' ? (
              <SimpleGrid cols={{ base: 1, sm: 3 }}>
                <TextInput label="Chart" {...form.getInputProps(`spec.addons.${i}.sources.chart.name`)} />
                <TextInput
                  label="Repository URL"
                  {...form.getInputProps(`spec.addons.${i}.sources.chart.repo`)}
                />
                <TextInput
                  label="Version"
                  {...form.getInputProps(`spec.addons.${i}.sources.chart.version`)}
                />
                <TagsInput
                  label="Values"
                  description="key=value"
                  {...form.getInputProps(`spec.addons.${i}.sources.chart.values`)}
                />
              </SimpleGrid>
            ) : (
              <TagsInput
                label="Manifests"
                description="Paths or URLs"
                {...form.getInputProps(`spec.addons.${i}.sources.yaml.path`)}
                error={errorsUnder(form, `spec.addons.${i}.sources`)}
              />
            )}
            {form.errors[`spec.addons.${i}.sources`] && (
              <Text c="red" size="sm">
                {form.errors[`spec.addons.${i}.sources`]}
              </Text>
            )}
            <Button
              variant="subtle"
              color="red"
              mt="sm"
              onClick={() => form.removeListItem('spec.addons', i)}
            >
              Remove add-on
            </Button>
          </Fieldset>
        );
      })}
      <Group>
        <Button
          variant="default"
          onClick={() =>
            form.insertListItem('spec.addons', {
              name: '',
              namespace: 'kube-system',
              sources: { chart: { name: '', repo: '' } },
            })
          }
        >
          Add add-on
        </Button>
      </Group>
    </Stack>
  );
}
