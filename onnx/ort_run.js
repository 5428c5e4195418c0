// Runs an ONNX model with ONNX Runtime (the onnxruntime-node package) on
// float32 inputs from a file and writes the outputs to a file; used by the
// Go package onnx (Runtime.Run), which embeds this script.
//
//   node ort_run.js MODEL IN.bin OUT.bin N C H W BATCH REPEAT
//
// IN.bin holds N·C·H·W little-endian float32 (NCHW); OUT.bin receives the
// model's first output for all N inputs, little-endian float32. The inputs
// are run in batches of BATCH; then the whole pass is repeated REPEAT more
// times for timing. stdout: one JSON line {"classes": K, "seconds": S,
// "images": I, "ort": VERSION}, S the wall time of the repeated passes
// (session.run only) over I images. The module is loaded from the folder
// VKTRAIN_ORT_MODULE (the onnxruntime-node package).
'use strict';
const fs = require('fs');
const ort = require(process.env.VKTRAIN_ORT_MODULE || 'onnxruntime-node');

async function main() {
  // A script file sees [node, script, ...args]; node -e sees [node, ...args].
  const a = process.argv.slice(require.main ? 2 : 1);
  if (a.length !== 9) {
    throw new Error('usage: ort_run.js MODEL IN.bin OUT.bin N C H W BATCH REPEAT');
  }
  const [model, inPath, outPath] = a;
  const [n, c, h, w, batch, repeat] = a.slice(3).map(Number);
  const per = c * h * w;
  const buf = fs.readFileSync(inPath);
  if (buf.length !== n * per * 4) {
    throw new Error(`${inPath}: ${buf.length} bytes, want ${n * per * 4} for [${n}, ${c}, ${h}, ${w}] float32`);
  }
  const x = new Float32Array(buf.buffer, buf.byteOffset, n * per);
  const sess = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all' });
  const inName = sess.inputNames[0];
  const outName = sess.outputNames[0];
  let out = null;
  let k = 0;
  const pass = async (keep) => {
    for (let i = 0; i < n; i += batch) {
      const m = Math.min(batch, n - i);
      const t = new ort.Tensor('float32', x.subarray(i * per, (i + m) * per), [m, c, h, w]);
      const r = await sess.run({ [inName]: t });
      const y = r[outName];
      if (keep) {
        k = y.dims[1];
        if (out === null) out = new Float32Array(n * k);
        out.set(y.data, i * k);
      }
    }
  };
  await pass(true);
  const start = process.hrtime.bigint();
  for (let r = 0; r < repeat; r++) await pass(false);
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  fs.writeFileSync(outPath, Buffer.from(out.buffer, out.byteOffset, out.byteLength));
  process.stdout.write(JSON.stringify({ classes: k, seconds: secs, images: n * repeat, ort: ort.env.versions.node }) + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
