import {
  ActionIcon,
  Button,
  Checkbox,
  Fieldset,
  Group,
  NumberInput,
  PasswordInput,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  TagsInput,
  Text,
  Textarea,
  TextInput,
} from '@mantine/core';
import { ROLES } from './constants.js';
import { errorsUnder, type ClusterForm } from './form.js';
import { SECRET_REF_PREFIX, type HostSpec } from './api.js';

function labelsToTags(labels: Record<string, string> | undefined): string[] {
  return Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`);
}

function tagsToLabels(tags: string[]): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const t of tags) {
    const i = t.indexOf('=');
    if (i > 0) out[t.slice(0, i).trim()] = t.slice(i + 1).trim();
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

export function HostsStep({
  form,
  editing,
  arches,
}: {
  form: ClusterForm;
  editing: boolean;
  arches: string[];
}) {
  const hosts = form.values.spec.hosts;
  const roles = form.values.spec.roleGroups;
  const setHost = (i: number, patch: Partial<HostSpec>) => {
    const next = { ...hosts[i]!, ...patch };
    for (const k of Object.keys(patch) as (keyof HostSpec)[]) if (patch[k] === undefined) delete next[k];
    form.setFieldValue(`spec.hosts.${i}`, next);
  };
  const rename = (i: number, name: string) => {
    const old = hosts[i]!.name;
    setHost(i, { name });
    for (const [role, members] of Object.entries(roles)) {
      form.setFieldValue(
        `spec.roleGroups.${role}`,
        members.map((m) => (m === old ? name : m)),
      );
    }
  };
  const toggleRole = (role: string, name: string, on: boolean) => {
    const members = roles[role] ?? [];
    form.setFieldValue(
      `spec.roleGroups.${role}`,
      on ? [...members.filter((m) => m !== name), name] : members.filter((m) => m !== name),
    );
  };
  const addHost = () => {
    const n = hosts.length + 1;
    form.insertListItem('spec.hosts', {
      name: `node${n}`,
      address: '',
      internalAddress: '',
      user: 'root',
      password: '',
    });
  };
  const remove = (i: number) => {
    const name = hosts[i]!.name;
    form.removeListItem('spec.hosts', i);
    for (const [role, members] of Object.entries(roles))
      form.setFieldValue(
        `spec.roleGroups.${role}`,
        members.filter((m) => m !== name),
      );
  };
  return (
    <Stack>
      <TextInput
        label="Cluster name"
        description="Names the saved config and the file kk reads"
        disabled={editing}
        {...form.getInputProps('metadata.name')}
      />
      {errorsUnder(form, 'spec.hosts') && hosts.length === 0 && (
        <Text c="red">{errorsUnder(form, 'spec.hosts')}</Text>
      )}
      {hosts.map((h, i) => {
        const mode = h.privateKey !== undefined ? 'key' : 'password';
        const secret = mode === 'key' ? h.privateKey : h.password;
        const stored = typeof secret === 'string' && secret.startsWith(SECRET_REF_PREFIX);
        return (
          <Fieldset key={i} legend={`Host ${i + 1}`}>
            <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
              <TextInput
                label="Name"
                {...form.getInputProps(`spec.hosts.${i}.name`)}
                onChange={(e) => rename(i, e.currentTarget.value)}
              />
              <TextInput
                label="Address"
                description="Reached over SSH from this server"
                {...form.getInputProps(`spec.hosts.${i}.address`)}
              />
              <TextInput
                label="Internal address"
                description="IPv4, or IPv4,IPv6"
                {...form.getInputProps(`spec.hosts.${i}.internalAddress`)}
              />
              <NumberInput
                label="SSH port"
                placeholder="22"
                min={1}
                max={65535}
                {...form.getInputProps(`spec.hosts.${i}.port`)}
                onChange={(v) => setHost(i, { port: typeof v === 'number' ? v : undefined })}
              />
              <TextInput label="User" {...form.getInputProps(`spec.hosts.${i}.user`)} />
              <Select
                label="Arch"
                placeholder="amd64"
                data={arches}
                clearable
                {...form.getInputProps(`spec.hosts.${i}.arch`)}
                onChange={(v) => setHost(i, { arch: v ?? undefined })}
              />
            </SimpleGrid>
            <Stack gap="xs" mt="sm">
              <SegmentedControl
                aria-label={`Login of host ${i + 1}`}
                data={[
                  { value: 'password', label: 'Password' },
                  { value: 'key', label: 'Private key' },
                ]}
                value={mode}
                onChange={(v) =>
                  setHost(
                    i,
                    v === 'key'
                      ? { password: undefined, privateKey: '' }
                      : { privateKey: undefined, password: '' },
                  )
                }
                w="fit-content"
              />
              {stored ? (
                <Group>
                  <Text size="sm">
                    The {mode === 'key' ? 'private key' : 'password'} is stored, encrypted, on the server.
                  </Text>
                  <Button
                    size="xs"
                    variant="default"
                    onClick={() => setHost(i, mode === 'key' ? { privateKey: '' } : { password: '' })}
                  >
                    Replace
                  </Button>
                </Group>
              ) : mode === 'key' ? (
                <Textarea
                  label="SSH private key"
                  placeholder="-----BEGIN OPENSSH PRIVATE KEY-----"
                  autosize
                  minRows={3}
                  styles={{ input: { fontFamily: 'monospace' } }}
                  {...form.getInputProps(`spec.hosts.${i}.privateKey`)}
                />
              ) : (
                <PasswordInput label="SSH password" {...form.getInputProps(`spec.hosts.${i}.password`)} />
              )}
              <TagsInput
                label="Labels"
                description="key=value, Enter after each"
                value={labelsToTags(h.labels)}
                onChange={(tags) => setHost(i, { labels: tagsToLabels(tags) })}
              />
              <Group>
                {ROLES.map((r) => (
                  <Checkbox
                    key={r.role}
                    label={r.label}
                    checked={(roles[r.role] ?? []).includes(h.name)}
                    onChange={(e) => toggleRole(r.role, h.name, e.currentTarget.checked)}
                  />
                ))}
                <ActionIcon
                  variant="subtle"
                  color="red"
                  aria-label={`Remove host ${i + 1}`}
                  onClick={() => remove(i)}
                  ml="auto"
                >
                  ✕
                </ActionIcon>
              </Group>
            </Stack>
          </Fieldset>
        );
      })}
      {ROLES.map((r) => {
        const e = errorsUnder(form, `spec.roleGroups.${r.role}`);
        return e ? (
          <Text key={r.role} c="red" size="sm" role="alert">
            {r.label}: {e}
          </Text>
        ) : null;
      })}
      <Group>
        <Button variant="default" onClick={addHost}>
          Add host
        </Button>
      </Group>
    </Stack>
  );
}
