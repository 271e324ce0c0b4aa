import { useState } from 'react';
import { Alert, Button, Code, Group, Table, TextInput } from '@mantine/core';
import type { ApiError } from '../api/client.js';
import { createToken, listTokens, revokeToken } from '../api/routes.js';
import { useApi } from '../api/use.js';
import { Empty, ErrorAlert, PageTitle } from '../components/common.js';

/** API tokens for scripts: made here (the secret shown once), listed, revoked. */
export function TokensPage() {
  const { data, error, reload } = useApi(listTokens);
  const [name, setName] = useState('');
  const [made, setMade] = useState<string>();
  const [failed, setFailed] = useState<ApiError>();
  return (
    <>
      <PageTitle>API tokens</PageTitle>
      <ErrorAlert error={error ?? failed} />
      <form
        onSubmit={(e) => {
          e.preventDefault();
          createToken(name).then(
            (t) => {
              setMade(t.token);
              setName('');
              reload();
            },
            (err: ApiError) => setFailed(err),
          );
        }}
      >
        <Group align="end" mb="md">
          <TextInput
            label="New token's name"
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            required
          />
          <Button type="submit">Create</Button>
        </Group>
      </form>
      {made && (
        <Alert color="green" title="Copy it now: it is not shown again" mb="md">
          <Code block>{made}</Code>
          Use it as <Code>Authorization: Bearer …</Code>.
        </Alert>
      )}
      {data && data.tokens.length === 0 && <Empty>No API tokens.</Empty>}
      {data && data.tokens.length > 0 && (
        <Table aria-label="API tokens">
          <Table.Tbody>
            {data.tokens.map((t) => (
              <Table.Tr key={t.id}>
                <Table.Td>{t.name}</Table.Td>
                <Table.Td>{new Date(t.createdAt).toLocaleString()}</Table.Td>
                <Table.Td>
                  <Button
                    size="xs"
                    color="red"
                    variant="light"
                    onClick={() => revokeToken(t.id).then(reload, setFailed)}
                  >
                    Revoke
                  </Button>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </>
  );
}
