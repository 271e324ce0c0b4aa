import { isMap, isSeq, LineCounter, parseAllDocuments, parseDocument, type Node } from 'yaml';
import { SpecError, type SpecErrorCode } from './errors.js';

/** A field path inside a YAML document: keys and list indexes. */
type FieldPath = (string | number)[];

/** Says `file:line` for a field path: the line of its key (or list item), else of its closest parent. */
export type Locator = (path: FieldPath) => string;

/** One parsed YAML document: its plain value and a locator for messages. */
export interface YamlDocument {
  value: unknown;
  at: Locator;
}

function locatorOf(doc: { contents: unknown }, lc: LineCounter, file: string): Locator {
  return (path) => {
    let node = doc.contents as Node | null;
    let line = 1;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === seg);
        const range = (pair?.key as Node | undefined)?.range;
        if (!pair || !range) break;
        line = lc.linePos(range[0]).line;
        node = pair.value as Node | null;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg] as Node | undefined;
        if (!item?.range) break;
        line = lc.linePos(item.range[0]).line;
        node = item;
      } else break;
    }
    return `${file}:${line}`;
  };
}

function syntaxError(
  code: SpecErrorCode,
  file: string,
  e: { message: string; linePos?: { line: number }[] },
): SpecError {
  const line = e.linePos?.[0]?.line;
  return new SpecError(code, `${file}${line ? `:${line}` : ''}: invalid YAML: ${e.message.split('\n')[0]}`);
}

/** The document as plain data; an unresolved alias or an alias bomb (which `toJS` throws on) is invalid YAML. */
function plainValue(doc: { toJS(): unknown }, code: SpecErrorCode, file: string): unknown {
  try {
    return doc.toJS();
  } catch (err) {
    throw syntaxError(code, file, { message: (err as Error).message });
  }
}

/** Parses one YAML document; a syntax error (raised with `code`) names the file and line. */
export function parseYaml(text: string, file: string, code: SpecErrorCode): YamlDocument {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true });
  if (doc.errors.length) throw syntaxError(code, file, doc.errors[0]!);
  return { value: plainValue(doc, code, file), at: locatorOf(doc, lc, file) };
}

/** Parses every document of a multi-document YAML (or JSON) file; empty documents are skipped. */
export function parseYamlAll(text: string, file: string, code: SpecErrorCode): YamlDocument[] {
  const lc = new LineCounter();
  const out: YamlDocument[] = [];
  for (const doc of parseAllDocuments(text, { lineCounter: lc, prettyErrors: true })) {
    if (doc.errors.length) throw syntaxError(code, file, doc.errors[0]!);
    const value = plainValue(doc, code, file);
    if (value !== null && value !== undefined) out.push({ value, at: locatorOf(doc, lc, file) });
  }
  return out;
}
