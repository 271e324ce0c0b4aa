import { join, resolve } from 'node:path';
import { OciLayout, rebaseInRegistry } from '@sprout/builder';
import { defineCommand, UsageError } from '../command.js';
import { REGISTRY_OPTIONS, transferOptions } from './build.js';

export default defineCommand({
  name: 'rebase',
  summary: 'Put an image built by sprout build on a new run image without rebuilding',
  usage: 'sprout rebase IMAGE --run-image REF [--tag REF] [options]',
  details: `
Replaces the run-image layers of IMAGE (found through runImage.topLayer in its
io.buildpacks.lifecycle.metadata label) with those of --run-image, keeps every app layer as it is
(same digests), updates the metadata's runImage and pushes the result to --tag (default: IMAGE).
Only the app's manifest and config are read; when the run image is on the same registry its
layers are mounted across repositories, so just a new config and manifest are uploaded.

Examples:
  sprout rebase registry.example.com/team/app:1 --run-image registry.example.com/base/run:2
  sprout rebase localhost:5000/app:1 --run-image localhost:5000/run:2 --tag localhost:5000/app:1-rebased --plain-http
`,
  options: {
    'run-image': { type: 'string', value: 'REF', description: 'The new run image (required)' },
    tag: {
      type: 'string',
      short: 't',
      value: 'REF',
      description: 'Where to push the result (default: IMAGE)',
    },
    ...REGISTRY_OPTIONS,
    'data-dir': {
      type: 'string',
      env: 'SPROUT_DATA_DIR',
      default: '.sprout',
      value: 'DIR',
      description: 'Where the manifests and configs read are kept',
    },
  },
  async run(opts, positionals, io) {
    if (positionals.length !== 1)
      throw new UsageError('give one IMAGE: the registry reference of the app image');
    const runImage = opts['run-image'];
    if (!runImage) throw new UsageError('--run-image REF is required');
    const image = positionals[0]!;
    const layout = await OciLayout.open(join(resolve(io.cwd, opts['data-dir']), 'builder', 'rebase'));
    const started = Date.now();
    const result = await rebaseInRegistry(image, runImage, layout, {
      ...transferOptions(opts, io),
      ...(opts.tag ? { tag: opts.tag } : {}),
    });
    io.stdout.write(
      `Rebased ${image} onto ${runImage}: ${result.appLayers} app layers kept, ${result.mounted} run layers mounted, ${result.uploaded} blobs uploaded\n` +
        `Pushed ${opts.tag ?? image} ${result.digest} in ${((Date.now() - started) / 1000).toFixed(1)}s\n`,
    );
    return 0;
  },
});
