import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRng } from '@sprout/http/testing';
import { isBuilderError } from '../errors.js';
import { sha256 } from './digest.js';
import { writeImage } from './image.js';
import { writeLayer } from './layer.js';
import { OciLayout } from './layout.js';
import { parseConfig, parseIndex, parseManifest } from './parse.js';
import { MEDIA_TYPES } from './types.js';

const D = sha256('x');
const manifest = {
  schemaVersion: 2,
  mediaType: MEDIA_TYPES.manifest,
  config: { mediaType: MEDIA_TYPES.config, digest: D, size: 1 },
  layers: [],
};

describe('parsing image documents', () => {
  const refused: [string, () => unknown, string][] = [
    ['index not JSON', () => parseIndex('{'), '(document)'],
    ['index array', () => parseIndex('[]'), '(document)'],
    ['index schemaVersion 1', () => parseIndex('{"schemaVersion":1,"manifests":[]}'), 'schemaVersion'],
    ['index manifests missing', () => parseIndex('{"schemaVersion":2}'), 'manifests'],
    [
      'descriptor bad digest',
      () => parseIndex(`{"schemaVersion":2,"manifests":[{"mediaType":"a","digest":"sha256:zz","size":1}]}`),
      'manifests[0].digest',
    ],
    [
      'descriptor negative size',
      () => parseIndex(`{"schemaVersion":2,"manifests":[{"mediaType":"a","digest":"${D}","size":-1}]}`),
      'manifests[0].size',
    ],
    [
      'annotation not a string',
      () =>
        parseIndex(
          `{"schemaVersion":2,"manifests":[{"mediaType":"a","digest":"${D}","size":1,"annotations":{"k":1}}]}`,
        ),
      'manifests[0].annotations.k',
    ],
    [
      'manifest of other type',
      () => parseManifest(JSON.stringify({ ...manifest, mediaType: MEDIA_TYPES.index })),
      'mediaType',
    ],
    ['manifest without config', () => parseManifest(JSON.stringify({ ...manifest, config: null })), 'config'],
    ['config without rootfs', () => parseConfig('{"os":"linux","architecture":"amd64"}'), 'rootfs'],
    [
      'config diff_ids not digests',
      () => parseConfig('{"os":"linux","architecture":"amd64","rootfs":{"type":"layers","diff_ids":["x"]}}'),
      'rootfs.diff_ids',
    ],
    [
      'config Env not strings',
      () =>
        parseConfig(
          '{"os":"linux","architecture":"amd64","rootfs":{"type":"layers","diff_ids":[]},"config":{"Env":[1]}}',
        ),
      'config.Env',
    ],
  ];
  it.each(refused)('refuses %s naming the field', (_, parse, field) => {
    try {
      parse();
      expect.unreachable();
    } catch (err) {
      expect(isBuilderError(err, 'SPROUT_ERR_BUILDER_LAYOUT_INVALID')).toBe(true);
      expect((err as { field: string }).field).toBe(field);
    }
  });

  it('accepts a Docker schema 2 manifest and a manifest without mediaType', () => {
    expect(
      parseManifest(JSON.stringify({ ...manifest, mediaType: MEDIA_TYPES.dockerManifest })).mediaType,
    ).toBe(MEDIA_TYPES.dockerManifest);
    const { mediaType: _, ...bare } = manifest;
    expect(parseManifest(JSON.stringify(bare)).mediaType).toBe(MEDIA_TYPES.manifest);
  });
});

describe('reading a layout with broken index.json and manifest (fuzz)', () => {
  let dir: string;
  let indexText: string;
  let manifestText: string;
  let manifestFile: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sprout-builder-fuzz-'));
    const layout = await OciLayout.open(dir);
    const layer = await writeLayer(layout, [{ to: '/a', content: 'a' }]);
    const image = await writeImage(layout, { layers: [{ layer }] });
    await layout.tag(image, 'latest');
    indexText = JSON.stringify(await layout.readIndex());
    manifestText = JSON.stringify(image.manifest);
    manifestFile = layout.blobPath(image.descriptor.digest);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  function mutate(text: string, rng: ReturnType<typeof seededRng>): string {
    switch (rng.int(0, 4)) {
      case 0:
        return rng.bytes(rng.int(0, 200)).toString('latin1');
      case 1:
        return text.slice(0, rng.int(0, text.length));
      case 2: {
        const at = rng.int(0, text.length);
        return text.slice(0, at) + String.fromCharCode(rng.int(32, 127)) + text.slice(at + 1);
      }
      default:
        return text.replace(
          /"[a-zA-Z]+":/,
          `"${rng.pick(['x', 'size', 'digest', 'layers', 'manifests', 'schemaVersion'])}":`,
        );
    }
  }

  it('every broken document is a coded BuilderError, never a crash or a wrong image', async () => {
    const rng = seededRng();
    const layout = await OciLayout.open(dir);
    const until = Date.now() + 1500;
    let cases = 0;
    while (cases <= 50 || Date.now() < until) {
      const which = rng.int(0, 2);
      const broken = mutate(which === 0 ? indexText : manifestText, rng);
      await writeFile(which === 0 ? join(dir, 'index.json') : manifestFile, broken);
      try {
        const image = await layout.image('latest');
        // only an unchanged document may still read as the image
        expect(broken, `seed ${rng.seed}`).toBe(which === 0 ? broken : manifestText);
        expect(image.manifest.layers).toHaveLength(1);
      } catch (err) {
        expect(isBuilderError(err), `seed ${rng.seed}: ${String(err)}`).toBe(true);
      }
      await writeFile(join(dir, 'index.json'), indexText);
      await writeFile(manifestFile, manifestText);
      cases++;
    }
    expect(cases).toBeGreaterThan(50);
  });
});
