import { useState } from 'react';
import { Button, FileButton, Group, Stack, Text, Textarea, Title } from '@mantine/core';
import { useNavigate } from 'react-router';
import { clusters } from './api.js';
import { ErrorAlert } from '../components/common.js';

/** Import a kk config file as users have it; its passwords and keys are sealed on the server. */
export function ImportCluster() {
  const [text, setText] = useState('');
  const [error, setError] = useState<Error>();
  const navigate = useNavigate();
  const submit = async () => {
    setError(undefined);
    try {
      const saved = await clusters.import(text);
      void navigate(`/clusters/${encodeURIComponent(saved.summary.name)}`);
    } catch (e) {
      setError(e as Error);
    }
  };
  return (
    <Stack>
      <Title order={2}>Import a KubeKey config</Title>
      <Text c="dimmed">
        Paste or choose the file you give kk (-f). Passwords and keys in it are encrypted on the server and
        never shown again; a config with errors is kept so you can fix it in the wizard.
      </Text>
      <Group>
        <FileButton onChange={(f) => void f?.text().then(setText)} accept=".yaml,.yml,text/yaml">
          {(props) => (
            <Button variant="default" {...props}>
              Choose file
            </Button>
          )}
        </FileButton>
      </Group>
      <Textarea
        label="Config YAML"
        autosize
        minRows={12}
        maxRows={30}
        value={text}
        onChange={(e) => setText(e.currentTarget.value)}
        styles={{ input: { fontFamily: 'monospace' } }}
      />
      <ErrorAlert error={error} />
      <Group>
        <Button onClick={() => void submit()} disabled={text.trim() === ''}>
          Import
        </Button>
      </Group>
    </Stack>
  );
}
