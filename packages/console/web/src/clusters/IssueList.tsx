import { Alert, Code, List } from '@mantine/core';
import type { FieldIssue } from './api.js';

/** Config issues in an alert, each with the path it is at; nothing when there are none. */
export function IssueList({
  issues,
  title,
  color,
}: {
  issues: FieldIssue[];
  title: string;
  color: 'red' | 'yellow';
}) {
  if (issues.length === 0) return null;
  return (
    <Alert color={color} title={title} role={color === 'red' ? 'alert' : undefined}>
      <List size="sm">
        {issues.map((i) => (
          <List.Item key={`${i.path} ${i.message}`}>
            <Code>{i.path}</Code> {i.message}
          </List.Item>
        ))}
      </List>
    </Alert>
  );
}
