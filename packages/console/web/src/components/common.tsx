import type { ReactNode } from 'react';
import { Alert, Badge, Group, Paper, Text, Title } from '@mantine/core';
import type { ApiError } from '../api/client.js';

/** An API error as the user needs it: the stable code, and the message saying what to do. */
export function ErrorAlert({ error }: { error: ApiError | Error | undefined }) {
  if (!error) return null;
  const code = 'code' in error ? (error as ApiError).code : undefined;
  return (
    <Alert color="red" title={code ?? 'Error'} role="alert" my="sm">
      {error.message}
    </Alert>
  );
}

export function LiveBadge({ live }: { live: boolean }) {
  return (
    <Badge color={live ? 'green' : 'gray'} variant="light" aria-live="polite">
      {live ? 'live' : 'reconnecting'}
    </Badge>
  );
}

export function PageTitle({ children, right }: { children: ReactNode; right?: ReactNode }) {
  return (
    <Group justify="space-between" mb="md" wrap="wrap">
      <Title order={2}>{children}</Title>
      {right}
    </Group>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return (
    <Text c="dimmed" py="md">
      {children}
    </Text>
  );
}

/** A titled box of a page (instances, routes, pools...). */
export function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Paper withBorder p="md">
      <Title order={4} mb="sm">
        {title}
      </Title>
      {children}
    </Paper>
  );
}
