// Per-layer ONNX Runtime (CPU) times from its own profiler: node
// ort-layers.js MODEL.onnx THREADS RUNS. Runs RUNS forwards (after 3
// warm-up runs) with profiling on, sums each node's kernel time by the
// Ultralytics layer its name starts with (`/model.N/`; nodes outside any
// layer, such as ORT's layout reorders, are layer -1) and prints
// `layer N ms` lines, per forward.
const fs = require('fs');
const os = require('os');
const path = require('path');
const ort = require('onnxruntime-node');

async function main() {
  const [model, threads, runs] = process.argv.slice(2);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'irmb-ort-profile-'));
  const options = {
    intraOpNumThreads: Number(threads), interOpNumThreads: 1,
    executionMode: 'sequential', graphOptimizationLevel: 'all',
  };
  const data = new Float32Array(3 * 640 * 640);
  for (let i = 0; i < data.length; ++i) data[i] = Math.random();
  const feeds = { images: new ort.Tensor('float32', data, [1, 3, 640, 640]) };
  const warm = await ort.InferenceSession.create(model, options);
  for (let i = 0; i < 3; ++i) await warm.run(feeds);
  const session = await ort.InferenceSession.create(model, {
    ...options, enableProfiling: true, profileFilePrefix: path.join(dir, 'ort'),
  });
  for (let i = 0; i < Number(runs); ++i) await session.run(feeds);
  session.endProfiling();
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.json'));
  const events = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  fs.rmSync(dir, { recursive: true, force: true });
  const layers = new Map();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const m = /^\/model\.(\d+)\//.exec(e.name);
    const layer = m ? Number(m[1]) : -1;
    layers.set(layer, (layers.get(layer) || 0) + e.dur / 1000 / Number(runs));
  }
  for (const [layer, ms] of [...layers].sort((a, b) => a[0] - b[0]))
    console.log(`layer ${layer} ${ms.toFixed(3)}`);
}

main().catch((e) => { console.error(`error: ${e.message}`); process.exit(1); });
