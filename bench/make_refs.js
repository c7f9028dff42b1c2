'use strict';
// Reference outputs for models/ made with onnxruntime (CPU):
//   node bench/make_refs.js [MODELS_DIR]
// For every models/ref/<model>/b<B>/inputs/*.npy it runs <model>.onnx and
// writes models/ref/<model>/b<B>/outputs/<output name>.npy. It also scores
// the MNIST models on the committed test slice (pixels / 255) and writes
// models/ref/onnxruntime_accuracy.json.
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');
const npy = require('./npy');

async function session(file) {
  return ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
}

async function refs(dir, model) {
  const sess = await session(path.join(dir, model + '.onnx'));
  const root = path.join(dir, 'ref', model);
  for (const b of fs.readdirSync(root).filter((d) => /^b\d+$/.test(d)).sort()) {
    const feeds = {};
    for (const name of sess.inputNames) {
      const a = npy.read(path.join(root, b, 'inputs', name + '.npy'));
      feeds[name] = new ort.Tensor(a.dtype, a.data, a.dims);
    }
    const res = await sess.run(feeds);
    const od = path.join(root, b, 'outputs');
    fs.mkdirSync(od, { recursive: true });
    for (const name of sess.outputNames) {
      const t = res[name];
      npy.write(path.join(od, name + '.npy'), t.type, t.dims, t.data);
      console.log(`${model} ${b}: ${name} [${t.dims.join(',')}] ${t.type}`);
    }
  }
}

async function mnistAccuracy(dir, model, shape) {
  const sess = await session(path.join(dir, model + '.onnx'));
  const imgs = npy.read(path.join(dir, 'mnist_test_images.npy'));
  const labels = npy.read(path.join(dir, 'mnist_test_labels.npy'));
  const n = imgs.dims[0];
  const x = new Float32Array(n * 784);
  for (let i = 0; i < x.length; i++) x[i] = imgs.data[i] / 255;
  const res = await sess.run({ [sess.inputNames[0]]: new ort.Tensor('float32', x, [n, ...shape]) });
  const logits = res[sess.outputNames[0]].data;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < 10; c++) if (logits[i * 10 + c] > logits[i * 10 + best]) best = c;
    if (best === labels.data[i]) correct++;
  }
  return { images: n, correct, accuracy: correct / n };
}

async function main() {
  const dir = path.resolve(process.argv[2] || path.join(__dirname, '..', 'models'));
  const models = fs.readdirSync(path.join(dir, 'ref'), { withFileTypes: true })
    .filter((d) => d.isDirectory()).map((d) => d.name).sort();
  for (const m of models) await refs(dir, m);
  const acc = {
    onnxruntime: ort.env.versions.node,
    mnist_mlp: await mnistAccuracy(dir, 'mnist_mlp', [784]),
    cnn: await mnistAccuracy(dir, 'cnn', [1, 28, 28]),
  };
  fs.writeFileSync(path.join(dir, 'ref', 'onnxruntime_accuracy.json'), JSON.stringify(acc, null, 1) + '\n');
  console.log(JSON.stringify(acc));
}

main().catch((e) => { console.error(`make_refs: ${e.message || e}`); process.exit(1); });
