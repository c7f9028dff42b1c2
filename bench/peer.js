'use strict';
// onnxruntime (CPU) peer of `kinfer bench engine`:
//   node bench/peer.js --model M.onnx --batch B [--threads T] [--seconds S]
// Prints one JSON line {model, batch, threads, device, impl, runs,
// inf_per_s, ms_p50, ms_p99}, the same fields as `kinfer bench engine`.
// Inputs are made from the model's signature: the first symbolic dim is the
// batch; float inputs get seeded uniform [0,1) values, int64 inputs small
// ids (1 for inputs named *mask*). Timing: session.run per batch, after a
// warm-up of ~10% of the time (at least 3 runs).
const path = require('path');
const os = require('os');
const ort = require('onnxruntime-node');

function usage(msg) {
  if (msg) console.error(`peer.js: ${msg}`);
  console.error('usage: node bench/peer.js --model M.onnx --batch B [--threads T] [--seconds S]');
  process.exit(2);
}

function parseArgs(argv) {
  const a = { threads: os.cpus().length, seconds: 2, batch: 1 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i], v = argv[i + 1];
    if (v === undefined) usage(`${k} needs a value`);
    if (k === '--model') a.model = v;
    else if (k === '--batch') a.batch = Number(v);
    else if (k === '--threads') a.threads = Number(v);
    else if (k === '--seconds') a.seconds = Number(v);
    else usage(`unknown option '${k}'`);
    i++;
  }
  if (!a.model) usage('--model is required');
  for (const k of ['batch', 'threads', 'seconds'])
    if (!(a[k] > 0) || (k !== 'seconds' && !Number.isInteger(a[k]))) usage(`--${k} must be a positive ${k === 'seconds' ? 'number' : 'integer'}`);
  return a;
}

function makeInput(meta, batch, rng) {
  let sawBatch = false;
  const dims = meta.shape.map((d) => {
    if (typeof d === 'number' && d >= 0) return d;
    if (sawBatch) throw new Error(`input '${meta.name}': more than one symbolic dim`);
    sawBatch = true;
    return batch;
  });
  const n = dims.reduce((x, y) => x * y, 1);
  if (meta.type === 'float32') {
    const d = new Float32Array(n);
    for (let i = 0; i < n; i++) d[i] = rng();
    return new ort.Tensor('float32', d, dims);
  }
  if (meta.type === 'int64') {
    const d = new BigInt64Array(n);
    const mask = /mask/i.test(meta.name);
    for (let i = 0; i < n; i++) d[i] = mask ? 1n : BigInt(Math.floor(rng() * 100));
    return new ort.Tensor('int64', d, dims);
  }
  throw new Error(`input '${meta.name}': dtype ${meta.type} not supported by the peer`);
}

function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const sess = await ort.InferenceSession.create(a.model, {
    intraOpNumThreads: a.threads, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const rng = mulberry32(42);
  const feeds = {};
  for (const m of sess.inputMetadata) feeds[m.name] = makeInput(m, a.batch, rng);

  const now = () => Number(process.hrtime.bigint()) / 1e6; // ms
  const warmEnd = now() + a.seconds * 100;
  for (let i = 0; i < 3 || now() < warmEnd; i++) await sess.run(feeds);

  const lat = [];
  const t0 = now(), end = t0 + a.seconds * 1000;
  let t = t0;
  while (t < end) {
    await sess.run(feeds);
    const t1 = now();
    lat.push(t1 - t);
    t = t1;
  }
  const total = (t - t0) / 1000;
  lat.sort((x, y) => x - y);
  const r3 = (x) => Math.round(x * 1000) / 1000;
  console.log(JSON.stringify({
    model: path.basename(a.model, '.onnx'), batch: a.batch, threads: a.threads, device: 'cpu',
    impl: `onnxruntime-${ort.env.versions.node}`, runs: lat.length,
    inf_per_s: Math.round((lat.length * a.batch) / total), ms_p50: r3(pct(lat, 0.5)), ms_p99: r3(pct(lat, 0.99)),
  }));
  await sess.release();
}

main().catch((e) => { console.error(`peer.js: ${e.message || e}`); process.exit(1); });
