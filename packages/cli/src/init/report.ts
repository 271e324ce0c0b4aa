import { curlLine, shellQuote, type Template } from './templates.js';
import type { Scaffolded } from './scaffold.js';

/** What each file a template writes is, in the order the report lists them. */
const ROLES: [RegExp, (t: Template) => string][] = [
  [/^index\.[jt]s$/, (t) => `the function: export ${t.target}, signature ${t.signature}`],
  [/\.test\.[jt]s$/, () => 'its test, with @sprout/framework/testing (npm test)'],
  [
    /^function\.yaml$/,
    () => 'the Function (OpenFunction core.openfunction.io/v1beta2) sprout dev, run and deploy read',
  ],
  [/^package\.json$/, () => 'scripts dev, start and test'],
  [/^tsconfig\.json$/, () => 'TypeScript settings for editors and npm run typecheck'],
  [/^README\.md$/, () => 'how to run it'],
];

const rank = (file: string) => {
  const i = ROLES.findIndex(([re]) => re.test(file));
  return i < 0 ? ROLES.length : i;
};

/**
 * What `sprout init` prints: the files written and what each is, then the commands to run next
 * (`shown` is the folder as the user gave it, relative to where they are).
 */
export function initReport(templateName: string, t: Template, done: Scaffolded, shown: string): string {
  const files = [...done.files].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const w = Math.max(...files.map((f) => f.length));
  const role = (f: string) => ROLES.find(([re]) => re.test(f))?.[1](t) ?? '';
  const cd = shown === '.' ? '' : `cd ${shellQuote(shown)} && `;
  return [
    `Created ${templateName} function "${done.name}" in ${shown}:`,
    ...files.map((f) =>
      `  ${f.padEnd(w)}  ${role(f)}${done.overwritten.includes(f) ? ' (overwritten)' : ''}`.trimEnd(),
    ),
    '',
    'Next:',
    `  npx sprout dev ${shellQuote(shown)}`,
    `  ${curlLine(t.try, 'localhost:8080')}    # in another terminal`,
    `  ${cd}npm install && npm test    # its test`,
    '',
  ].join('\n');
}
