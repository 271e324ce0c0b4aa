import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { dnsLabel } from '@sprout/kube/names';
import { CliError } from '../errors.js';
import { curlLine, templateDir, TEMPLATES, type TemplateName } from './templates.js';

export interface ScaffoldOptions {
  /** The folder to write into (created when missing). */
  dir: string;
  /** The folder as messages name it (default `dir`). */
  shown?: string;
  template: TemplateName;
  /** Overwrite files the template writes that already exist. */
  force?: boolean;
}

export interface Scaffolded {
  /** The function's name: the folder's name made a DNS-1123 label. */
  name: string;
  /** File names written, relative to `dir`, sorted. */
  files: string[];
  /** Files that existed and were overwritten (`force`). */
  overwritten: string[];
}

/**
 * Writes a template's files into `dir`, with `__NAME__` replaced by the function's name and
 * `__CURL__` by the line that tries it. Refuses, writing nothing, when any of those files exists
 * (unless `force`).
 */
export function scaffold(o: ScaffoldOptions): Scaffolded {
  const shown = o.shown ?? o.dir;
  if (existsSync(o.dir) && !statSync(o.dir).isDirectory()) {
    throw new CliError(
      'SPROUT_ERR_CLI_INIT_NOT_A_FOLDER',
      `${shown} is a file, not a folder: give a folder to create the function in`,
      { field: 'dir' },
    );
  }
  const name = dnsLabel(basename(o.dir));
  const from = templateDir(o.template);
  const files = readdirSync(from).sort();
  const existing = files.filter((f) => existsSync(join(o.dir, f)));
  if (existing.length && !o.force) {
    throw new CliError(
      'SPROUT_ERR_CLI_INIT_EXISTS',
      `${shown} already has ${existing.join(', ')}; nothing was written. Pass --force to overwrite ${existing.length === 1 ? 'it' : 'them'}, or give another folder`,
      { field: existing[0] },
    );
  }
  const curl = curlLine(TEMPLATES[o.template].try, 'localhost:8080');
  mkdirSync(o.dir, { recursive: true });
  for (const f of files) {
    const text = readFileSync(join(from, f), 'utf8')
      .replaceAll('__NAME__', name)
      .replaceAll('__CURL__', curl);
    writeFileSync(join(o.dir, f), text);
  }
  return { name, files, overwritten: existing };
}
