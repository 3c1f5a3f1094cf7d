#!/usr/bin/env node
// Lays out the npm packages, ready for `npm pack` / `npm publish`, with every version taken
// from Cargo.toml (never written by hand):
//
//   node npm/scripts/generate.mjs main --out DIR
//       DIR/clawposture: the launcher package; its optionalDependencies name every platform
//       package of npm/clawposture/platforms.json at the same version.
//   node npm/scripts/generate.mjs platform ID --binary PATH --out DIR
//       DIR/cli-ID: @clawposture/cli-ID holding PATH as bin/clawposture, with os/cpu/libc
//       from the table, and the binary's size and sha256 in its package.json.
//
// Options: --cargo-toml PATH (default: the repository's). Prints the package folder it wrote.
// No package gets install scripts.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SOURCE = path.join(HERE, '..', 'clawposture');
const REPO = path.join(HERE, '..', '..');

/** The [package] table's string keys of a Cargo.toml (the few the packages need). */
export function cargoPackage(text) {
  const out = {};
  let inPackage = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) {
      inPackage = line === '[package]';
      continue;
    }
    const m = inPackage && line.match(/^([A-Za-z0-9_-]+)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(#.*)?$/);
    if (m) out[m[1]] = m[2].replace(/\\(.)/g, '$1');
  }
  if (!/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$/.test(out.version || '')) {
    throw new Error(`Cargo.toml: no [package] version of the form X.Y.Z (got ${out.version})`);
  }
  return out;
}

export function readTable() {
  return JSON.parse(fs.readFileSync(path.join(SOURCE, 'platforms.json'), 'utf8'));
}

const { packageName } = createRequire(import.meta.url)(path.join(SOURCE, 'lib', 'select.js'));

function writeJson(file, value) {
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

function fresh(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
}

/** The launcher package's package.json. */
export function mainManifest(cargo, table) {
  return {
    name: 'clawposture',
    version: cargo.version,
    description: cargo.description,
    license: cargo.license,
    bin: { clawposture: 'bin/clawposture.js' },
    files: ['bin/', 'lib/', 'platforms.json', 'README.md'],
    engines: { node: '>=20' },
    optionalDependencies: Object.fromEntries(table.map((r) => [packageName(r), cargo.version])),
  };
}

/** A platform package's package.json for `row`, holding a binary of `size` bytes. */
export function platformManifest(cargo, row, size, sha256) {
  return {
    name: packageName(row),
    version: cargo.version,
    description: `The clawposture binary for ${row.label} (${row.target}). Install \`clawposture\`, which picks this package; do not install it alone.`,
    license: cargo.license,
    os: [row.os],
    cpu: [row.cpu],
    ...(row.libc ? { libc: [row.libc] } : {}),
    files: ['bin/clawposture', 'README.md'],
    preferUnplugged: true,
    clawposture: { binary: 'bin/clawposture', size, sha256, target: row.target },
  };
}

export function generateMain({ out, cargoToml }) {
  const cargo = cargoPackage(fs.readFileSync(cargoToml, 'utf8'));
  const table = readTable();
  const dir = path.join(out, 'clawposture');
  fresh(dir);
  for (const rel of ['bin/clawposture.js', 'lib/select.js', 'platforms.json', 'README.md']) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.copyFileSync(path.join(SOURCE, rel), path.join(dir, rel));
  }
  fs.chmodSync(path.join(dir, 'bin/clawposture.js'), 0o755);
  writeJson(path.join(dir, 'package.json'), mainManifest(cargo, table));
  return dir;
}

export function generatePlatform({ id, binary, out, cargoToml }) {
  const cargo = cargoPackage(fs.readFileSync(cargoToml, 'utf8'));
  const row = readTable().find((r) => r.id === id);
  if (!row) {
    throw new Error(`unknown platform ${id}; known: ${readTable().map((r) => r.id).join(', ')}`);
  }
  const bytes = fs.readFileSync(binary);
  const dir = path.join(out, `cli-${id}`);
  fresh(dir);
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.writeFileSync(path.join(dir, 'bin', 'clawposture'), bytes, { mode: 0o755 });
  fs.chmodSync(path.join(dir, 'bin', 'clawposture'), 0o755);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  writeJson(path.join(dir, 'package.json'), platformManifest(cargo, row, bytes.length, sha256));
  fs.writeFileSync(
    path.join(dir, 'README.md'),
    `# ${packageName(row)}\n\nThe prebuilt \`clawposture\` ${cargo.version} binary for ${row.label}` +
      ` (Rust target \`${row.target}\`). Install [\`clawposture\`](https://www.npmjs.com/package/clawposture)` +
      ' instead: it depends on this package where the platform fits and runs the binary.\n',
  );
  return dir;
}

function parseArgs(argv) {
  const [kind, ...rest] = argv;
  const opts = { kind, cargoToml: path.join(REPO, 'Cargo.toml') };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const value = () => {
      if (i + 1 >= rest.length) throw new Error(`${a} needs a value`);
      return rest[++i];
    };
    if (a === '--out') opts.out = value();
    else if (a === '--binary') opts.binary = value();
    else if (a === '--cargo-toml') opts.cargoToml = value();
    else if (!a.startsWith('-') && kind === 'platform' && !opts.id) opts.id = a;
    else throw new Error(`unknown argument ${a}`);
  }
  if (kind === 'main' && opts.out) return opts;
  if (kind === 'platform' && opts.out && opts.id && opts.binary) return opts;
  throw new Error(
    'usage: generate.mjs main --out DIR | generate.mjs platform ID --binary PATH --out DIR [--cargo-toml PATH]',
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const opts = parseArgs(process.argv.slice(2));
    const dir = opts.kind === 'main' ? generateMain(opts) : generatePlatform(opts);
    process.stdout.write(`${dir}\n`);
  } catch (e) {
    process.stderr.write(`generate.mjs: ${e.message}\n`);
    process.exit(2);
  }
}
