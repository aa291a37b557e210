import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildInputs, productionModules } from '../../../src/runtime/docker/image.js';

/** A package root with dist/ and an npm-style node_modules (hoisted and nested). */
function fakeRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'lab-image-'));
  const put = (p: string, text: string) => {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), text);
  };
  put('package.json', JSON.stringify({ dependencies: { a: '1', b: '1' }, devDependencies: { dev: '1' } }));
  put('Dockerfile', 'FROM x\n');
  put('.dockerignore', '.git\n');
  put('dist/src/proxy/main.js', 'proxy');
  put('dist/src/controlplane/main.js', 'cp');
  put('dist/src/proxy/main.js.map', 'a source map');
  put('dist/services/catalog/src/main.js', 'catalog');
  put('node_modules/a/package.json', JSON.stringify({ dependencies: { c: '1' } }));
  put('node_modules/b/package.json', JSON.stringify({ dependencies: { c: '2' }, optionalDependencies: { missing: '1' } }));
  put('node_modules/b/node_modules/c/package.json', JSON.stringify({}));
  put('node_modules/c/package.json', JSON.stringify({ dependencies: { '@s/d': '1' } }));
  put('node_modules/@s/d/package.json', JSON.stringify({}));
  put('node_modules/dev/package.json', JSON.stringify({}));
  return root;
}

describe('the image build context', () => {
  let root: string;
  beforeEach(() => {
    root = fakeRoot();
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('takes the production closure, resolving as Node does (nested first), without dev dependencies', () => {
    expect(productionModules(root)).toEqual(['node_modules/@s/d', 'node_modules/a', 'node_modules/b', 'node_modules/c']);
  });

  it('hashes the inputs: stable, and changed by a dist file, a dependency or the base image, not by a source map', () => {
    const first = buildInputs('sha256:base1', root);
    expect(first.entries).toEqual(['Dockerfile', '.dockerignore', 'package.json', 'dist/src', 'dist/services', 'node_modules/@s/d', 'node_modules/a', 'node_modules/b', 'node_modules/c']);
    expect(buildInputs('sha256:base1', root).hash).toBe(first.hash);
    expect(buildInputs('sha256:base2', root).hash).not.toBe(first.hash);
    writeFileSync(join(root, 'dist/src/proxy/main.js.map'), 'another map');
    expect(buildInputs('sha256:base1', root).hash).toBe(first.hash);
    writeFileSync(join(root, 'dist/services/catalog/src/main.js'), 'catalog v2');
    const second = buildInputs('sha256:base1', root).hash;
    expect(second).not.toBe(first.hash);
    writeFileSync(join(root, 'node_modules/@s/d/index.js'), 'x');
    expect(buildInputs('sha256:base1', root).hash).not.toBe(second);
  });

  it('says what to run when the build or a dependency is missing', () => {
    rmSync(join(root, 'dist/src/controlplane/main.js'));
    expect(() => buildInputs('b', root)).toThrow(/dist\/src\/controlplane\/main.js is missing; run npm run build/);
    rmSync(join(root, 'node_modules/c'), { recursive: true });
    expect(() => productionModules(root)).toThrow(/dependency c is not installed .* run npm ci/);
  });
});
