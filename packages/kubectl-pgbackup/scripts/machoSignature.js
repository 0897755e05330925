// The code signature of a 64-bit Mach-O executable. `node --build-sea` drops Node's signature when it injects the SEA
// blob; reserveCodeSignature puts back an empty LC_CODE_SIGNATURE of the size tools/macho-sign's ad-hoc
// signature takes, and machoSignatureProblems checks the result the way the macOS kernel checks pages: the
// CodeDirectory's SHA-256 hash of every 4 KiB page up to the signature must match the file. Nothing on Linux
// runs a macOS binary, so the release checks this after signing, and the tests check the archives with it.
import { createHash } from 'node:crypto';

const LC_SEGMENT_64 = 0x19;
const LC_CODE_SIGNATURE = 0x1d;
const CPU_TYPE_ARM64 = 0x0100000c;
const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CSMAGIC_CODEDIRECTORY = 0xfade0c02;
const CS_ADHOC = 0x2;

/** Problems with the signature of `file` (a Buffer), none when it is a valid ad-hoc signature. */
export function machoSignatureProblems(file) {
  if (file.length < 32 || file.readUInt32LE(0) !== 0xfeedfacf) return ['not a 64-bit little-endian Mach-O file'];
  const ncmds = file.readUInt32LE(16);
  let off = 32;
  let signature;
  for (let i = 0; i < ncmds; i++) {
    const cmd = file.readUInt32LE(off);
    if (cmd === LC_CODE_SIGNATURE) signature = { offset: file.readUInt32LE(off + 8), size: file.readUInt32LE(off + 12) };
    off += file.readUInt32LE(off + 4);
  }
  if (!signature) return ['no LC_CODE_SIGNATURE: unsigned'];
  const problems = [];
  if (signature.offset + signature.size !== file.length) problems.push('the signature is not at the end of the file');
  const blob = file.subarray(signature.offset, signature.offset + signature.size);
  if (blob.readUInt32BE(0) !== CSMAGIC_EMBEDDED_SIGNATURE) return [...problems, 'no embedded signature superblob'];
  const count = blob.readUInt32BE(8);
  const slots = Array.from({ length: count }, (_, i) => ({ type: blob.readUInt32BE(12 + i * 8), at: blob.readUInt32BE(16 + i * 8) }));
  const slot = slots.find((s) => s.type === 0);
  if (!slot) return [...problems, 'no CodeDirectory'];
  const cd = blob.subarray(slot.at);
  if (cd.readUInt32BE(0) !== CSMAGIC_CODEDIRECTORY) return [...problems, 'bad CodeDirectory magic'];
  const flags = cd.readUInt32BE(12);
  const hashOffset = cd.readUInt32BE(16);
  const codeSlots = cd.readUInt32BE(28);
  const codeLimit = cd.readUInt32BE(32);
  const [hashSize, hashType, , pageShift] = [cd[36], cd[37], cd[38], cd[39]];
  if (!(flags & CS_ADHOC)) problems.push('not an ad-hoc signature');
  if (hashType !== 2 || hashSize !== 32) problems.push(`hash type ${hashType} (size ${hashSize}), expected SHA-256`);
  if (codeLimit !== signature.offset) problems.push(`the signature covers ${codeLimit} bytes, the code is ${signature.offset}`);
  const page = 1 << pageShift;
  if (codeSlots !== Math.ceil(codeLimit / page)) problems.push(`${codeSlots} page hashes for ${Math.ceil(codeLimit / page)} pages`);
  let bad = 0;
  for (let i = 0; i < codeSlots; i++) {
    const want = cd.subarray(hashOffset + i * 32, hashOffset + (i + 1) * 32);
    const got = createHash('sha256')
      .update(file.subarray(i * page, Math.min((i + 1) * page, codeLimit)))
      .digest();
    if (!got.equals(want)) bad++;
  }
  if (bad) problems.push(`${bad} of ${codeSlots} pages do not match their hash`);
  return problems;
}

/**
 * `file` (a Buffer, unsigned) with an LC_CODE_SIGNATURE load command naming an empty signature at its end, sized
 * for the ad-hoc signature apple_codesign_adhoc writes (superblob, one CodeDirectory with the identifier
 * "a.out", one SHA-256 hash per 4 KiB page), and __LINKEDIT grown to hold it. With the size right, the signer
 * fills the space and changes no load command (it would otherwise leave __LINKEDIT's vmsize unaligned).
 */
export function reserveCodeSignature(file) {
  if (file.readUInt32LE(0) !== 0xfeedfacf) throw new Error('not a 64-bit little-endian Mach-O file');
  const ncmds = file.readUInt32LE(16);
  const sizeofcmds = file.readUInt32LE(20);
  let off = 32;
  let linkedit;
  let firstData = Infinity;
  for (let i = 0; i < ncmds; i++) {
    const cmd = file.readUInt32LE(off);
    if (cmd === LC_CODE_SIGNATURE) throw new Error('already has a code signature');
    if (cmd === LC_SEGMENT_64) {
      if (
        file
          .subarray(off + 8, off + 24)
          .toString('latin1')
          .replace(/\0+$/, '') === '__LINKEDIT'
      )
        linkedit = off;
      for (let s = 0; s < file.readUInt32LE(off + 64); s++) {
        const sectionOffset = file.readUInt32LE(off + 72 + s * 80 + 48);
        if (sectionOffset) firstData = Math.min(firstData, sectionOffset);
      }
    }
    off += file.readUInt32LE(off + 4);
  }
  if (linkedit === undefined) throw new Error('no __LINKEDIT segment');
  if (32 + sizeofcmds + 16 > firstData) throw new Error('no room for one more load command');
  const dataoff = Math.ceil(file.length / 16) * 16;
  const pages = Math.ceil(dataoff / 4096);
  const size = 12 + 8 + 88 + 'a.out\0'.length + pages * 32; // SuperBlob + BlobIndex + CodeDirectory + id + hashes
  const out = Buffer.alloc(dataoff + size);
  file.copy(out);
  const command = 32 + sizeofcmds;
  out.writeUInt32LE(LC_CODE_SIGNATURE, command);
  out.writeUInt32LE(16, command + 4);
  out.writeUInt32LE(dataoff, command + 8);
  out.writeUInt32LE(size, command + 12);
  out.writeUInt32LE(ncmds + 1, 16);
  out.writeUInt32LE(sizeofcmds + 16, 20);
  const fileoff = Number(out.readBigUInt64LE(linkedit + 40));
  const page = out.readUInt32LE(4) === CPU_TYPE_ARM64 ? 16384 : 4096;
  const filesize = dataoff + size - fileoff;
  out.writeBigUInt64LE(BigInt(Math.ceil(filesize / page) * page), linkedit + 32); // vmsize
  out.writeBigUInt64LE(BigInt(filesize), linkedit + 48);
  return out;
}
