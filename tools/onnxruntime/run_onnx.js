// Runs an ONNX model on onnxruntime's CPU execution provider: the oracle that tffreeze's tests
// compare its ONNX export against.
//   node run_onnx.js MODEL.onnx OUT_DIR NAME=IN.npy... [--output NAME...] [--threads N] [--repeat N]
//   node run_onnx.js --batch JOBS.json
// JOBS.json: [{"model": M, "out_dir": D, "inputs": {NAME: FILE}, "outputs": [NAME...]}, ...], run in
// one process (many small models without a process each); a job that fails writes D/error.txt.
// Inputs and outputs are NumPy .npy files; output files are named like tffreeze run's:
// OUT_DIR/<name with '/' and ':' replaced by '_'>.npy. With --repeat N it also prints the mean
// latency of N more runs in milliseconds ("latency_ms <value>").
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');
const { parseNpy, npyHeader } = require('../npy_format.js');

const TYPES = {
  '<f4': ['float32', Float32Array], '<f8': ['float64', Float64Array], '<i4': ['int32', Int32Array],
  '<i8': ['int64', BigInt64Array], '|b1': ['bool', Uint8Array], '|u1': ['uint8', Uint8Array], '|i1': ['int8', Int8Array],
  '<f2': ['float16', Uint16Array], '<i2': ['int16', Int16Array], '<u2': ['uint16', Uint16Array], '<u4': ['uint32', Uint32Array],
  '<u8': ['uint64', BigUint64Array],
};

function readNpy(file) {
  const { descr, shape, data } = parseNpy(fs.readFileSync(file), file);
  const type = TYPES[descr];
  if (!type) throw new Error(`${file}: unsupported dtype ${descr}`);
  return new ort.Tensor(type[0], new type[1](data), shape);
}

function writeNpy(file, t) {
  const descr = Object.keys(TYPES).find((k) => TYPES[k][0] === t.type);
  if (!descr) throw new Error(`output of type ${t.type} cannot be written`);
  const data = t.type === 'bool' ? Uint8Array.from(t.data, (v) => (v ? 1 : 0)) : t.data;
  fs.writeFileSync(file, Buffer.concat([npyHeader(descr, t.dims), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

async function runJob(job) {
  const feeds = {};
  for (const [name, file] of Object.entries(job.inputs)) feeds[name] = readNpy(file);
  fs.mkdirSync(job.out_dir, { recursive: true });
  try {
    const session = await ort.InferenceSession.create(job.model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const results = await session.run(feeds, job.outputs);
    for (const name of job.outputs) writeNpy(path.join(job.out_dir, name.replace(/[/:]/g, '_') + '.npy'), results[name]);
  } catch (e) {
    fs.writeFileSync(path.join(job.out_dir, 'error.txt'), e.message.split('\n')[0]);
  }
}

async function main() {
  if (process.argv[2] === '--batch') {
    for (const job of JSON.parse(fs.readFileSync(process.argv[3], 'utf8'))) await runJob(job);
    return;
  }
  const [modelPath, outDir, ...rest] = process.argv.slice(2);
  const feeds = {};
  let outputs = [];
  let threads = 1;
  let repeat = 0;
  for (let i = 0; i < rest.length; ++i) {
    if (rest[i] === '--output') outputs.push(rest[++i]);
    else if (rest[i] === '--threads') threads = Number(rest[++i]);
    else if (rest[i] === '--repeat') repeat = Number(rest[++i]);
    else {
      const eq = rest[i].indexOf('=');
      feeds[rest[i].slice(0, eq)] = readNpy(rest[i].slice(eq + 1));
    }
  }
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  if (outputs.length === 0) outputs = session.outputNames;
  const results = await session.run(feeds, outputs);
  fs.mkdirSync(outDir, { recursive: true });
  for (const name of outputs) writeNpy(path.join(outDir, name.replace(/[/:]/g, '_') + '.npy'), results[name]);
  if (repeat > 0) {
    const start = process.hrtime.bigint();
    for (let r = 0; r < repeat; ++r) await session.run(feeds, outputs);
    console.log(`latency_ms ${Number(process.hrtime.bigint() - start) / 1e6 / repeat}`);
  }
}

main().catch((e) => {
  console.error(`run_onnx: ${e.message.split('\n')[0]}`);
  process.exit(1);
});
