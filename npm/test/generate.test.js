// The generator: versions come from Cargo.toml alone, the main package depends on every
// platform package at that version, platform packages carry os/cpu/libc from the table and a
// runnable binary, and no package has install scripts.

import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

import { cargoPackage, generateMain, generatePlatform, readTable } from '../scripts/generate.mjs';

const { packageName } = createRequire(import.meta.url)('../clawposture/lib/select.js');

const CARGO = `[package]
name = "clawposture"
version = "3.14.15-rc.2"   # a comment
description = "Put an \\"OpenClaw\\" installation into a secure posture."
license = "MIT"

[dependencies]
clap = { version = "4.6" }
serde = "1"

[dev-dependencies]
version = "0.0.0"
`;

const made = [];
test.after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function fixture() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawposture-gen-'));
  made.push(dir);
  const cargoToml = path.join(dir, 'Cargo.toml');
  fs.writeFileSync(cargoToml, CARGO);
  return { dir, cargoToml };
}

const read = (p) => JSON.parse(fs.readFileSync(p, 'utf8'));

test('Cargo.toml: the [package] version, not a dependency\'s', () => {
  const c = cargoPackage(CARGO);
  assert.equal(c.version, '3.14.15-rc.2');
  assert.equal(c.description, 'Put an "OpenClaw" installation into a secure posture.');
  assert.throws(() => cargoPackage('[dependencies]\nversion = "1.0.0"\n'), /no \[package\] version/);
});

test('the main package: version and every optional dependency from Cargo.toml, no scripts', () => {
  const { dir, cargoToml } = fixture();
  const pkg = generateMain({ out: dir, cargoToml });
  const m = read(path.join(pkg, 'package.json'));
  assert.equal(m.name, 'clawposture');
  assert.equal(m.version, '3.14.15-rc.2');
  assert.deepEqual(m.bin, { clawposture: 'bin/clawposture.js' });
  assert.deepEqual(
    m.optionalDependencies,
    Object.fromEntries(readTable().map((r) => [packageName(r), '3.14.15-rc.2'])),
  );
  assert.equal(m.scripts, undefined);
  assert.equal(m.dependencies, undefined);
  for (const f of ['bin/clawposture.js', 'lib/select.js', 'platforms.json', 'README.md']) {
    assert.ok(fs.existsSync(path.join(pkg, f)), f);
  }
  assert.ok(fs.statSync(path.join(pkg, 'bin/clawposture.js')).mode & 0o100, 'launcher executable');
});

test('a platform package per table row: os/cpu/libc, the binary, its size and hash', () => {
  const { dir, cargoToml } = fixture();
  const binary = path.join(dir, 'bin.dat');
  const bytes = Buffer.from('\x7fELF some bytes');
  fs.writeFileSync(binary, bytes, { mode: 0o644 });
  for (const row of readTable()) {
    const pkg = generatePlatform({ id: row.id, binary, out: dir, cargoToml });
    assert.equal(path.basename(pkg), `cli-${row.id}`);
    const m = read(path.join(pkg, 'package.json'));
    assert.equal(m.name, packageName(row));
    assert.equal(m.version, '3.14.15-rc.2');
    assert.deepEqual(m.os, [row.os]);
    assert.deepEqual(m.cpu, [row.cpu]);
    assert.deepEqual(m.libc, row.os === 'linux' ? [row.libc] : undefined);
    assert.equal(m.scripts, undefined);
    assert.equal(m.clawposture.size, bytes.length);
    assert.equal(m.clawposture.sha256, createHash('sha256').update(bytes).digest('hex'));
    const out = path.join(pkg, m.clawposture.binary);
    assert.deepEqual(fs.readFileSync(out), bytes);
    assert.equal(fs.statSync(out).mode & 0o777, 0o755);
  }
});

test('an unknown platform id is refused, naming the known ones', () => {
  const { dir, cargoToml } = fixture();
  assert.throws(
    () => generatePlatform({ id: 'win32-x64', binary: cargoToml, out: dir, cargoToml }),
    /unknown platform win32-x64; known: linux-x64-gnu, linux-arm64-gnu/,
  );
});
