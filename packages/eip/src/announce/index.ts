import type { Logger } from '@sprout/observe';
import type { EipManager } from '../manager.js';
import type { Pool } from '../spec.js';
import { createLocalAnnouncer, type LocalAnnouncerOptions } from './local.js';
import type { Announcer } from './types.js';

export interface CreateAnnouncersOptions extends LocalAnnouncerOptions {
  logger?: Logger;
}

/** The announcers `sprout eip serve` runs: local always; BGP when a BgpConf and peers are applied. */
export function createAnnouncers(
  _manager: EipManager,
  options: CreateAnnouncersOptions = {},
): Partial<Record<Pool['protocol'], Announcer>> {
  return { local: createLocalAnnouncer(options) };
}
