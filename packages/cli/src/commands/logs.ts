import { defineCommand, UsageError } from '../command.js';
import { API_OPTIONS, callApi } from '../platform-api.js';

interface LogLineView {
  time: string;
  instance: string;
  stream: 'stdout' | 'stderr';
  line: string;
}

export default defineCommand({
  name: 'logs',
  summary: "Print a function's output lines from a running 'sprout dev'",
  usage: 'sprout logs <function> [options]',
  details: `
Reads the platform API of a running 'sprout dev' (the last 1,000 lines of every function are
held there). With --follow it keeps printing new lines until interrupted. The API token is read from
the api-token file in 'sprout dev's data dir (.sprout here, or --data-dir / SPROUT_DATA_DIR).

Every line goes to standard output, so it pipes into grep and friends, labelled with the stream the
function wrote it to: 'stdout <line>' or 'stderr <line>' (with --timestamps, '<time> <instance>
stdout <line>'). --stream keeps one of them; 'cut -d" " -f2-' gives back the bare lines.
Standard error only carries sprout's own errors.

Examples:
  sprout logs hello                 the last 100 lines
  sprout logs hello -f --tail 0     only new lines, as they come
  sprout logs hello --stream stderr --timestamps
  sprout logs hello | grep -i error
  sprout logs hello --stream stderr | cut -d" " -f2- | jq .msg
`,
  options: {
    follow: { type: 'boolean', short: 'f', description: 'Keep printing new lines' },
    tail: { type: 'string', default: '100', value: 'N', description: 'Lines to show first (0-1000)' },
    stream: {
      type: 'string',
      value: 'NAME',
      description: "Only the function's stdout or only its stderr lines",
    },
    timestamps: { type: 'boolean', description: 'Put the time and instance before each line' },
    ...API_OPTIONS,
  },
  async run(opts, positionals, io) {
    const [fn, ...extra] = positionals;
    if (!fn || extra.length) throw new UsageError('give exactly one function name: sprout logs <function>');
    const query = new URLSearchParams({ tail: opts.tail });
    if (opts.stream) query.set('stream', opts.stream);
    if (opts.follow) query.set('follow', 'true');
    const res = await callApi(opts, `/v1/functions/${encodeURIComponent(fn)}/logs?${query}`, io);
    // One stream for everything, each line labelled with where it came from.
    const print = (l: LogLineView) => {
      io.stdout.write(`${opts.timestamps ? `${l.time} ${l.instance} ` : ''}${l.stream} ${l.line}\n`);
    };
    if (!opts.follow) {
      for (const l of ((await res.json()) as { lines: LogLineView[] }).lines) print(l);
      return 0;
    }
    // Server-sent events: `event: log` blocks, each with one JSON line of data.
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buf.indexOf('\n\n')) !== -1) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        if (block.startsWith('event: log') && data) print(JSON.parse(data.slice(6)) as LogLineView);
      }
    }
    return 0;
  },
});
