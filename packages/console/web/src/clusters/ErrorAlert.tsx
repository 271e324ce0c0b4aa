import { Alert } from '@mantine/core';
import { ApiError } from '../api/client.js';

/** An API error as the console shows every one: its code as the title, the message saying what to do. */
export function ErrorAlert({ error }: { error: unknown }) {
  if (!error) return null;
  const code = error instanceof ApiError ? error.code : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  return (
    <Alert color="red" title={code} role="alert" my="sm">
      {message}
    </Alert>
  );
}
