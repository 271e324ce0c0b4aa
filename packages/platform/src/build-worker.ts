// One `/v1/builds` build in a worker thread: the lifecycle's file work (copies, tar and gzip of
// layers, SBOM walks) is partly synchronous and would stall sprout dev's event loop — its gateway,
// API and log streams — for seconds. The thread runs buildImage (and the push) and posts its log
// lines and outcome; an 'abort' message cancels it through the builder's abort signal.
import { parentPort, workerData } from 'node:worker_threads';
import { assembleRunImage, buildImage, parseReference, pushImage } from '@sprout/builder';

/** What the thread builds (serializable: the worker gets a copy). */
export interface BuildJob {
  source: string;
  tag: string;
  dataDir: string;
  env: Record<string, string>;
  frameworkDir: string;
  function: { target?: string; signatureType?: string };
  output?: { type: 'oci-layout'; dir: string } | { type: 'docker-archive'; file: string };
  push: boolean;
}

/** What the thread posts: log lines, then one `done` or `fail`. */
export type BuildMessage =
  | { t: 'line'; text: string; stream?: 'stdout' | 'stderr' }
  | { t: 'done'; digest: string }
  | { t: 'fail'; code?: string; message: string };

async function build(job: BuildJob, post: (m: BuildMessage) => void, signal: AbortSignal): Promise<string> {
  const result = await buildImage({
    source: job.source,
    tag: job.tag,
    dataDir: job.dataDir,
    env: job.env,
    signal,
    runImage: (layout) => assembleRunImage(layout),
    // Every folder sprout dev serves is a function: the image runs it on the framework, as sprout run does.
    node: { frameworkDir: job.frameworkDir, function: job.function },
    ...(job.output ? { output: job.output } : {}),
    logs: {
      line: (text, stream) => {
        // The lifecycle's own lines (no stream: not a child's output, which comes from a stream
        // handler) are written from its async steps: a cancel stops it at the next one, between
        // layers at the latest. Child processes are killed through the signal at once.
        if (stream === undefined) signal.throwIfAborted();
        post({ t: 'line', text, ...(stream ? { stream } : {}) });
      },
    },
  });
  signal.throwIfAborted();
  if (job.push) {
    post({ t: 'line', text: '===> PUSHING' });
    const host = parseReference(job.tag).registry;
    const local = /^(localhost|127\.[\d.]+|\[::1\])(:\d+)?$/.test(host);
    const pushed = await pushImage(result.layout, result.image, job.tag, local ? { plainHttp: true } : {});
    post({ t: 'line', text: `pushed ${job.tag}@${pushed.digest}` });
  }
  return result.image.descriptor.digest;
}

const port = parentPort;
const data = workerData as { job?: BuildJob } | undefined;
if (port && data?.job) {
  const abort = new AbortController();
  port.on('message', (m) => {
    if (m === 'abort') abort.abort();
  });
  const post = (m: BuildMessage) => port.postMessage(m);
  build(data.job, post, abort.signal).then(
    (digest) => post({ t: 'done', digest }),
    (err: unknown) => {
      const e = err as { code?: string; message?: string };
      post({ t: 'fail', ...(e.code ? { code: e.code } : {}), message: e.message ?? String(err) });
    },
  );
}
