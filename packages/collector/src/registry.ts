import { filterPlugins } from './filters/index.js';
import { collectdInput } from './inputs/collectd.js';
import { forwardInput } from './inputs/forward.js';
import { httpInput } from './inputs/http.js';
import { syslogInput } from './inputs/syslog.js';
import { mqttInput } from './inputs/mqtt.js';
import { nginxInput } from './inputs/nginx.js';
import { opentelemetryInput } from './inputs/opentelemetry.js';
import { statsdInput } from './inputs/statsd.js';
import { tcpInput } from './inputs/tcp.js';
import { counterOutput, nullOutput, stdoutOutput } from './outputs/basic.js';
import { fileOutput } from './outputs/file.js';
import { forwardOutput } from './outputs/forward.js';
import { httpOutput } from './outputs/http.js';
import { pgsqlOutput } from './outputs/pgsql.js';
import { opentelemetryOutput } from './outputs/opentelemetry.js';
import type { InputPlugin, OutputPlugin } from './plugin.js';

export const inputPlugins: InputPlugin[] = [
  httpInput,
  tcpInput,
  syslogInput,
  statsdInput,
  mqttInput,
  opentelemetryInput,
  collectdInput,
  nginxInput,
  forwardInput,
] as InputPlugin[];
export const outputPlugins: OutputPlugin[] = [
  stdoutOutput,
  fileOutput,
  httpOutput,
  opentelemetryOutput,
  nullOutput,
  counterOutput,
  forwardOutput,
  pgsqlOutput,
] as OutputPlugin[];
export { filterPlugins };
