import { useEffect, useState } from 'react';
import { Alert, Table, Title } from '@mantine/core';
import type { ApiError } from '../api/client.js';
import { api } from '../api/client.js';
import type { FunctionList } from '../api/types.js';

export function FunctionsPage() {
  const [list, setList] = useState<FunctionList>();
  const [error, setError] = useState<ApiError>();
  useEffect(() => {
    api.get<FunctionList>('/v1/functions').then(setList, (e: ApiError) => setError(e));
  }, []);
  return (
    <>
      <Title order={2}>Functions</Title>
      {error && (
        <Alert color="red" title={error.code}>
          {error.message}
        </Alert>
      )}
      <Table>
        <Table.Tbody>
          {list?.functions.map((f) => (
            <Table.Tr key={f.name}>
              <Table.Td>{f.name}</Table.Td>
              <Table.Td>
                {f.readyReplicas}/{f.replicas}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </>
  );
}
