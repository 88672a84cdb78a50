// NumPy .npy files for the Node.js oracles (tools/tfjs, tools/onnxruntime): parsing a file's
// header and writing one; each runner turns the bytes into its own tensors.
'use strict';

// { descr, shape, data }: the dtype code ('<f4', '|b1', ...), the dims, and an aligned copy of
// the element bytes.
function parseNpy(buf, file) {
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  return { descr, shape, data: new Uint8Array(buf.subarray(start + headerLen)).buffer };
}

// A version-1 header for `descr` and `shape`, padded to 64 bytes as NumPy writes it.
function npyHeader(descr, shape) {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${dims}, }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1')]);
}

module.exports = { parseNpy, npyHeader };
