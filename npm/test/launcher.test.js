'use strict';
// The launcher process itself where this machine cannot be the platform: Node is made to
// report another platform by a preloaded fixture (-r), and the generated main package runs.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const made = [];
test.after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

async function mainPackage() {
  const { generateMain } = await import('../scripts/generate.mjs');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawposture-launch-'));
  made.push(dir);
  const cargoToml = path.join(dir, 'Cargo.toml');
  fs.writeFileSync(cargoToml, '[package]\nname = "clawposture"\nversion = "1.2.3"\nlicense = "MIT"\n');
  return { dir, launcher: path.join(generateMain({ out: dir, cargoToml }), 'bin', 'clawposture.js') };
}

function run(dir, launcher, platform, arch) {
  const preload = path.join(dir, 'pretend.js');
  fs.writeFileSync(
    preload,
    `Object.defineProperty(process, 'platform', { value: ${JSON.stringify(platform)} });\n` +
      `Object.defineProperty(process, 'arch', { value: ${JSON.stringify(arch)} });\n`,
  );
  return spawnSync(process.execPath, ['-r', preload, launcher, '--version'], { encoding: 'utf8' });
}

test('an unsupported platform: one line naming it and the supported ones, exit 2', async () => {
  const { dir, launcher } = await mainPackage();
  const r = run(dir, launcher, 'win32', 'x64');
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(
    lines[0],
    /^clawposture: clawposture has no prebuilt binary for win32-x64; supported: linux-x64-gnu, linux-arm64-gnu, linux-x64-musl, darwin-arm64, darwin-x64/,
  );
});

test('a supported platform without its package installed: names the package, exit 2', async () => {
  const { dir, launcher } = await mainPackage();
  const r = run(dir, launcher, 'darwin', 'arm64');
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /@clawposture\/cli-darwin-arm64 is not installed; reinstall @clawposture\/cli-darwin-arm64@1\.2\.3/);
});
