'use strict';
// Minimal .npy (format 1.0/2.0) reader and writer for the dtypes kinfer's
// models use: <f4, <i8, |u1 (and <i4, <f8, |i1, |b1 on read). C order only.
const fs = require('fs');

const DTYPES = {
  '<f4': { ctor: Float32Array, size: 4, ort: 'float32' },
  '<f8': { ctor: Float64Array, size: 8, ort: 'float64' },
  '<i4': { ctor: Int32Array, size: 4, ort: 'int32' },
  '<i8': { ctor: BigInt64Array, size: 8, ort: 'int64' },
  '|u1': { ctor: Uint8Array, size: 1, ort: 'uint8' },
  '|i1': { ctor: Int8Array, size: 1, ort: 'int8' },
  '|b1': { ctor: Uint8Array, size: 1, ort: 'bool' },
};
const ORT_TO_DESCR = { float32: '<f4', float64: '<f8', int32: '<i4', int64: '<i8', uint8: '|u1', int8: '|i1', bool: '|b1' };

function read(path) {
  const buf = fs.readFileSync(path);
  if (buf.length < 10 || buf.readUInt32BE(0) !== 0x934e554d || buf.toString('latin1', 4, 6) !== 'PY')
    throw new Error(`${path}: not a .npy file`);
  const major = buf[6];
  let hlen, off;
  if (major === 1) { hlen = buf.readUInt16LE(8); off = 10; }
  else if (major === 2 || major === 3) { hlen = buf.readUInt32LE(8); off = 12; }
  else throw new Error(`${path}: unsupported .npy version ${major}`);
  const header = buf.toString('latin1', off, off + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) throw new Error(`${path}: bad .npy header`);
  if (fortran[1] === 'True') throw new Error(`${path}: Fortran order not supported`);
  const dt = DTYPES[descr[1]];
  if (!dt) throw new Error(`${path}: dtype ${descr[1]} not supported`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const start = off + hlen;
  if (buf.length - start !== count * dt.size) throw new Error(`${path}: ${buf.length - start} data bytes, expected ${count * dt.size}`);
  // copy into an aligned buffer
  const data = new dt.ctor(count);
  Buffer.from(data.buffer).set(buf.subarray(start));
  return { dtype: dt.ort, dims, data };
}

function write(path, ortType, dims, data) {
  const descr = ORT_TO_DESCR[ortType];
  if (!descr) throw new Error(`${path}: cannot write dtype ${ortType}`);
  const shapeStr = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.writeUInt32BE(0x934e554d, 0);
  pre.write('PY', 4, 'latin1');
  pre[6] = 1; pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  fs.writeFileSync(path, Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
}

module.exports = { read, write };
