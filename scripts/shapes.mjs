#!/usr/bin/env node
// A synthetic RGB image data set for data.kind: folder (Node.js >= 16, standard library only): coloured
// shapes on colour-gradient backgrounds, the tutorial's gradients with something in front of them.
//
//   node scripts/shapes.mjs OUT_DIR [TRAIN [TEST [SIZE]]]     defaults: 20000 training, 2000 test, 32x32
//
// Writes OUT_DIR/train/<label>-<shape>/<index>.png and OUT_DIR/test/..., 8-bit RGB, three classes (0-circle,
// 1-square, 2-triangle) in turn. Each image: a linear gradient between two random colours along a random
// direction, and one filled shape of a random colour (at least 96 away from the background's mean colour in
// RGB distance), size and position, drawn with 4x4 supersampling so its edges are smooth. Every draw comes
// from a seeded generator (mulberry32; seed 1 for train, 2 for test), so the files are the same on every
// machine. Each split is written into a temporary folder, fsynced and renamed into place; an existing split
// folder is an error. See docs/data.md ("A 32x32 RGB run").
import fs from 'node:fs';
import path from 'node:path';

import { fsyncTree, mulberry32, png } from './png.mjs';

const CLASS_FOLDERS = ['0-circle', '1-square', '2-triangle'];
const SUPERSAMPLE = 4;

function fail(message) {
  process.stderr.write(`shapes: ${message}\n`);
  process.exit(1);
}

function count(arg, name, def, min, max) {
  if (arg === undefined) {
    return def;
  }
  const n = Number(arg);
  if (!Number.isInteger(n) || n < min || n > max) {
    fail(`${name} must be an integer from ${min} to ${max}, got '${arg}'`);
  }
  return n;
}

function randomColour(rng) {
  return [0, 1, 2].map(() => Math.floor(rng() * 256));
}

/** Whether the point (x, y) (in units of the image side, 0..1) lies in the shape. */
function inside(kind, x, y, cx, cy, r, angle) {
  const dx = x - cx;
  const dy = y - cy;
  if (kind === 0) {
    return dx * dx + dy * dy <= r * r;
  }
  // rotate the point into the shape's frame
  const c = Math.cos(-angle);
  const s = Math.sin(-angle);
  const u = dx * c - dy * s;
  const v = dx * s + dy * c;
  if (kind === 1) {
    const h = r * 0.8;
    return Math.abs(u) <= h && Math.abs(v) <= h;
  }
  // equilateral triangle with circumradius r: inside all three edges' half-planes
  for (let k = 0; k < 3; k++) {
    const a = (2 * Math.PI * k) / 3;
    if (u * Math.cos(a) + v * Math.sin(a) > r / 2) {
      return false;
    }
  }
  return true;
}

/** One image of the given class as interleaved RGB bytes. */
function image(rng, kind, size) {
  const from = randomColour(rng);
  const to = randomColour(rng);
  const direction = rng() * 2 * Math.PI;
  const gx = Math.cos(direction);
  const gy = Math.sin(direction);
  const mean = from.map((v, i) => (v + to[i]) / 2);
  let colour;
  do {
    colour = randomColour(rng);
  } while (Math.hypot(colour[0] - mean[0], colour[1] - mean[1], colour[2] - mean[2]) < 96);
  const r = 0.18 + rng() * 0.14;
  const cx = r + rng() * (1 - 2 * r);
  const cy = r + rng() * (1 - 2 * r);
  const angle = rng() * 2 * Math.PI;
  const pixels = new Uint8Array(size * size * 3);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const x = (px + 0.5) / size;
      const y = (py + 0.5) / size;
      // background: position along the gradient direction, 0..1 across the image
      const t = Math.min(1, Math.max(0, 0.5 + ((x - 0.5) * gx + (y - 0.5) * gy) / Math.SQRT2));
      let covered = 0;
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          const ux = (px + (sx + 0.5) / SUPERSAMPLE) / size;
          const uy = (py + (sy + 0.5) / SUPERSAMPLE) / size;
          if (inside(kind, ux, uy, cx, cy, r, angle)) {
            covered++;
          }
        }
      }
      const alpha = covered / (SUPERSAMPLE * SUPERSAMPLE);
      for (let ch = 0; ch < 3; ch++) {
        const background = from[ch] + (to[ch] - from[ch]) * t;
        pixels[(py * size + px) * 3 + ch] = Math.round(background * (1 - alpha) + colour[ch] * alpha);
      }
    }
  }
  return pixels;
}

function writeSplit(outDir, split, n, seed, size) {
  const target = path.join(outDir, split);
  if (fs.existsSync(target)) {
    fail(`${target}: exists; remove it to write it again`);
  }
  const tmp = path.join(outDir, `.${split}.${process.pid}.tmp`);
  fs.rmSync(tmp, { recursive: true, force: true });
  for (const c of CLASS_FOLDERS) {
    fs.mkdirSync(path.join(tmp, c), { recursive: true });
  }
  const rng = mulberry32(seed);
  const digits = String(n - 1).length;
  for (let i = 0; i < n; i++) {
    const kind = i % CLASS_FOLDERS.length;
    const name = path.join(tmp, CLASS_FOLDERS[kind], `${String(i).padStart(digits, '0')}.png`);
    fs.writeFileSync(name, png(image(rng, kind, size), size, size, 3));
  }
  fsyncTree(tmp);
  fs.renameSync(tmp, target);
  const dfd = fs.openSync(outDir, 'r');
  fs.fsyncSync(dfd);
  fs.closeSync(dfd);
  console.log(`${target}: ${n} RGB PNGs of ${size}x${size}`);
}

const args = process.argv.slice(2);
if (args.length < 1 || args.length > 4 || args[0] === '-h' || args[0] === '--help') {
  fail('usage: shapes.mjs OUT_DIR [TRAIN [TEST [SIZE]]]   (defaults 20000 2000 32)');
}
const outDir = args[0];
const train = count(args[1], 'TRAIN', 20000, 1, 10000000);
const test = count(args[2], 'TEST', 2000, 1, 10000000);
const size = count(args[3], 'SIZE', 32, 4, 4096);
fs.mkdirSync(outDir, { recursive: true });
writeSplit(outDir, 'train', train, 1, size);
writeSplit(outDir, 'test', test, 2, size);
