import { useState } from 'react';
import { Button, Center, Paper, PasswordInput, Stack, Text, Title } from '@mantine/core';
import { login } from '../api/routes.js';
import type { ApiError } from '../api/client.js';
import { ErrorAlert } from '../components/common.js';

export function LoginPage({ onSignedIn }: { onSignedIn: () => void }) {
  const [password, setPassword] = useState('');
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  return (
    <Center mih="100vh" p="md">
      <Paper withBorder p="xl" w={380} maw="100%">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setBusy(true);
            login(password).then(
              () => onSignedIn(),
              (err: ApiError) => {
                setError(err);
                setBusy(false);
              },
            );
          }}
        >
          <Stack>
            <Title order={3}>Sign in to Sprout</Title>
            <Text fz="sm" c="dimmed">
              The admin password was printed when sprout first started on this data dir (or is
              SPROUT_ADMIN_PASSWORD).
            </Text>
            <PasswordInput
              label="Admin password"
              value={password}
              onChange={(e) => setPassword(e.currentTarget.value)}
              autoFocus
              required
            />
            <ErrorAlert error={error} />
            <Button type="submit" loading={busy}>
              Sign in
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
