// Runs a TF.js graph model on TensorFlow.js's pure-JavaScript CPU backend: the independent
// oracle that tffreeze's tests compare its own executor against.
//   node run_graph_model.js MODEL.json OUT_DIR NAME=IN.npy... --output NAME...
// Inputs and outputs are NumPy .npy files (float32, int32, bool); output files are named like
// tffreeze run's: OUT_DIR/<name with '/' and ':' replaced by '_'>.npy
'use strict';
const fs = require('fs');
const path = require('path');
// tfjs prints an advert for tfjs-node and execution hints; this tool's only output is files.
console.log = () => {};
console.warn = () => {};
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const converter = require('@tensorflow/tfjs-converter');
const { parseNpy, npyHeader } = require('../npy_format.js');

const DESCR = { '<f4': 'float32', '<i4': 'int32', '|b1': 'bool' };

function readNpy(file) {
  const { descr, shape, data } = parseNpy(fs.readFileSync(file), file);
  const dtype = DESCR[descr];
  if (!dtype) throw new Error(`${file}: unsupported dtype ${descr}`);
  const values = dtype === 'float32' ? new Float32Array(data) : dtype === 'int32' ? new Int32Array(data) : new Uint8Array(data);
  return tf.tensor(values, shape, dtype);
}

function writeNpy(file, t, values) {
  const descr = t.dtype === 'float32' ? '<f4' : t.dtype === 'int32' ? '<i4' : '|b1';
  const typed = t.dtype === 'float32' ? Float32Array.from(values) : t.dtype === 'int32' ? Int32Array.from(values) : Uint8Array.from(values);
  fs.writeFileSync(file, Buffer.concat([npyHeader(descr, t.shape), Buffer.from(typed.buffer)]));
}

// Loads model.json and its weight shards from disk (no fetch in Node).
class FileHandler {
  constructor(jsonPath) { this.jsonPath = jsonPath; }
  async load() {
    const model = JSON.parse(fs.readFileSync(this.jsonPath, 'utf8'));
    const dir = path.dirname(this.jsonPath);
    const specs = [];
    const buffers = [];
    for (const group of model.weightsManifest || []) {
      specs.push(...group.weights);
      for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
    }
    const all = Buffer.concat(buffers);
    return {
      modelTopology: model.modelTopology,
      weightSpecs: specs,
      weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
      format: model.format,
      generatedBy: model.generatedBy,
      convertedBy: model.convertedBy,
    };
  }
}

async function main() {
  const [modelPath, outDir, ...rest] = process.argv.slice(2);
  const feeds = {};
  const outputs = [];
  for (let i = 0; i < rest.length; ++i) {
    if (rest[i] === '--output') outputs.push(rest[++i]);
    else {
      const eq = rest[i].indexOf('=');
      feeds[rest[i].slice(0, eq)] = readNpy(rest[i].slice(eq + 1));
    }
  }
  await tf.setBackend('cpu');
  const model = await converter.loadGraphModel(new FileHandler(modelPath));
  let results;
  try {
    results = model.execute(feeds, outputs);
  } catch (e) {  // graphs with control flow or dynamic shapes
    results = await model.executeAsync(feeds, outputs);
  }
  if (!Array.isArray(results)) results = [results];
  for (let i = 0; i < outputs.length; ++i) {
    const name = outputs[i].replace(/[/:]/g, '_');
    writeNpy(path.join(outDir, `${name}.npy`), results[i], await results[i].data());
  }
}

main().catch((e) => {
  console.error(`run_graph_model: ${e.message}`);
  process.exit(3);
});
