// Times ONNX Runtime (CPU) on an ONNX file: node ort-bench.js MODEL.onnx
// THREADS RUNS WARMUP. Random input [1, 3, 640, 640] named `images`; prints
// `latency_ms: median=<m> min=<a> max=<b> runs=<N> threads=<T>`.
const ort = require('onnxruntime-node');

async function main() {
  const [model, threads, runs, warmup] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const data = new Float32Array(3 * 640 * 640);
  for (let i = 0; i < data.length; ++i) data[i] = Math.random();
  const feeds = { images: new ort.Tensor('float32', data, [1, 3, 640, 640]) };
  for (let i = 0; i < Number(warmup); ++i) await session.run(feeds);
  const times = [];
  for (let i = 0; i < Number(runs); ++i) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  const n = times.length;
  const median = n % 2 ? times[(n - 1) / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
  console.log(`latency_ms: median=${median.toFixed(3)} min=${times[0].toFixed(3)} ` +
              `max=${times[n - 1].toFixed(3)} runs=${n} threads=${threads}`);
}

main().catch((e) => { console.error(`error: ${e.message}`); process.exit(1); });
