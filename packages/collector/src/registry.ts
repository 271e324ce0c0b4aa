import { filterPlugins } from './filters/index.js';
import { httpInput } from './inputs/http.js';
import { syslogInput } from './inputs/syslog.js';
import { mqttInput } from './inputs/mqtt.js';
import { statsdInput } from './inputs/statsd.js';
import { tcpInput } from './inputs/tcp.js';
import { counterOutput, fileOutput, nullOutput, stdoutOutput } from './outputs/basic.js';
import { httpOutput } from './outputs/http.js';
import type { FilterPlugin, InputPlugin, OutputPlugin } from './plugin.js';

export const inputPlugins: InputPlugin[] = [
  httpInput,
  tcpInput,
  syslogInput,
  statsdInput,
  mqttInput,
] as InputPlugin[];
export const outputPlugins: OutputPlugin[] = [
  stdoutOutput,
  fileOutput,
  httpOutput,
  nullOutput,
  counterOutput,
];
export { filterPlugins };
export type { FilterPlugin };
