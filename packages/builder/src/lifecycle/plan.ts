import { parse } from 'smol-toml';
import { BuilderError } from '../errors.js';

/** One `[[requires]]` of a build plan, and one `[[entries]]` of a buildpack plan. */
export interface PlanEntry {
  name: string;
  metadata: Record<string, unknown>;
}

/** One alternative of a build plan: the top-level `provides`/`requires` or one `[[or]]`. */
export interface PlanAlternative {
  provides: string[];
  requires: PlanEntry[];
}

/** What detection said of one buildpack of a group. */
export interface DetectResult {
  id: string;
  optional: boolean;
  passed: boolean;
  /** The build plan's alternatives, the top-level one first; one empty one when no plan was written. */
  alternatives: PlanAlternative[];
}

/** A group that passed: the buildpacks kept (indexes into the results) and each one's buildpack plan. */
export interface ResolvedGroup {
  members: number[];
  /** Buildpack plan of each member, in the order of `members`. */
  plans: PlanEntry[][];
}

/** The most combinations of `[[or]]` alternatives and optional buildpacks tried. */
const MAX_TRIALS = 4096;

function bad(id: string, why: string): BuilderError {
  return new BuilderError(
    'SPROUT_ERR_BUILDER_BUILDPACK_OUTPUT_INVALID',
    `${id}: the build plan ${why}; write [[provides]] name = "…" and [[requires]] name = "…" (optionally [requires.metadata]), alternatives under [[or]]`,
    { field: 'buildpack' },
  );
}

function section(id: string, raw: Record<string, unknown>): PlanAlternative {
  const list = (key: string): Record<string, unknown>[] => {
    const v = raw[key];
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((e) => typeof e !== 'object' || e === null || Array.isArray(e)))
      throw bad(id, `has ${key} that is not an array of tables`);
    return v as Record<string, unknown>[];
  };
  const name = (e: Record<string, unknown>, key: string): string => {
    if (typeof e.name !== 'string' || e.name === '') throw bad(id, `has a ${key} entry without a name`);
    return e.name;
  };
  return {
    provides: list('provides').map((e) => name(e, 'provides')),
    requires: list('requires').map((e) => {
      const md = e.metadata ?? {};
      if (typeof md !== 'object' || md === null || Array.isArray(md))
        throw bad(id, 'has requires metadata that is not a table');
      // `version` at the top of a require is the old spelling of metadata.version.
      const metadata = { ...(md as Record<string, unknown>) };
      if (typeof e.version === 'string' && metadata.version === undefined) metadata.version = e.version;
      return { name: name(e, 'requires'), metadata };
    }),
  };
}

/** Parses a build plan (`CNB_BUILD_PLAN_PATH`); an empty text is a plan with nothing in it. */
export function parseBuildPlan(id: string, text: string): PlanAlternative[] {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (err) {
    throw bad(id, `is not valid TOML (${(err as Error).message.split('\n')[0]})`);
  }
  const alternatives = [section(id, doc)];
  const or = doc.or;
  if (or !== undefined) {
    if (!Array.isArray(or)) throw bad(id, 'has `or` that is not an array of tables');
    for (const alt of or) {
      if (typeof alt !== 'object' || alt === null || Array.isArray(alt))
        throw bad(id, 'has an `or` entry that is not a table');
      alternatives.push(section(id, alt as Record<string, unknown>));
    }
  }
  return alternatives;
}

/** True when every require is provided by the same or an earlier member and every provide is required by the same or a later one. */
function satisfied(chosen: PlanAlternative[]): boolean {
  for (let i = 0; i < chosen.length; i++) {
    for (const r of chosen[i]!.requires)
      if (!chosen.slice(0, i + 1).some((c) => c.provides.includes(r.name))) return false;
    for (const p of chosen[i]!.provides)
      if (!chosen.slice(i).some((c) => c.requires.some((r) => r.name === p))) return false;
  }
  return true;
}

/**
 * Resolves a group's detection per the Buildpack API: a required buildpack that failed fails the
 * group; otherwise the first combination (each passing buildpack's plan, then its `[[or]]`
 * alternatives; an optional one kept before it is dropped) whose requires and provides all match
 * wins. Each member's buildpack plan holds every require, from any member, of a name it provides.
 */
export function resolveGroup(results: DetectResult[]): ResolvedGroup | undefined {
  if (results.some((r) => !r.passed && !r.optional)) return undefined;
  const candidates = results.map((r, i) => ({ i, r })).filter(({ r }) => r.passed);
  let trials = 0;
  const pick: { i: number; alt: PlanAlternative }[] = [];
  const search = (k: number): ResolvedGroup | undefined => {
    if (k === candidates.length) {
      if (++trials > MAX_TRIALS || pick.length === 0 || !satisfied(pick.map((p) => p.alt))) return undefined;
      const requires = pick.flatMap((p) => p.alt.requires);
      return {
        members: pick.map((p) => p.i),
        plans: pick.map((p) => requires.filter((r) => p.alt.provides.includes(r.name))),
      };
    }
    const { i, r } = candidates[k]!;
    for (const alt of r.alternatives) {
      pick.push({ i, alt });
      const found = search(k + 1);
      pick.pop();
      if (found) return found;
      if (trials > MAX_TRIALS) return undefined;
    }
    return r.optional ? search(k + 1) : undefined;
  };
  return search(0);
}
