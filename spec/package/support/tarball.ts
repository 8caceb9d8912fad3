import { gunzipSync } from 'node:zlib';

/** One file of a package tarball, its path relative to the package root (`package/` removed). */
export interface TarballFile {
  path: string;
  contents: Buffer;
}

const BLOCK = 512;

/** A NUL-terminated header field as text. */
function field(header: Buffer, start: number, length: number): string {
  const raw = header.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

/** The `path` record of a pax extended header (`"<length> path=<value>\n"` records), if any. */
function paxPath(records: Buffer): string | undefined {
  let offset = 0;
  while (offset < records.length) {
    const space = records.indexOf(0x20, offset);
    if (space === -1) break;
    const length = Number(records.subarray(offset, space).toString('ascii'));
    if (!Number.isInteger(length) || length <= 0) break;
    const record = records.subarray(space + 1, offset + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (record.slice(0, equals) === 'path') return record.slice(equals + 1);
    offset += length;
  }
  return undefined;
}

/**
 * The regular files of a gzipped tarball as `npm pack` writes it (ustar, pax headers for long
 * paths), in archive order. Throws on an entry outside `package/`, which npm never writes.
 */
export function readTarball(gzipped: Buffer): TarballFile[] {
  const archive = gunzipSync(gzipped);
  const files: TarballFile[] = [];
  let offset = 0;
  let longPath: string | undefined;
  while (offset + BLOCK <= archive.length) {
    const header = archive.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) break;
    const size = Number.parseInt(field(header, 124, 12).trim() || '0', 8);
    const type = field(header, 156, 1) || '0';
    const prefix = field(header, 345, 155);
    const name = prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100);
    const contents = archive.subarray(offset + BLOCK, offset + BLOCK + size);
    offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x') {
      longPath = paxPath(contents);
      continue;
    }
    if (type === 'g') continue;
    const path = longPath ?? name;
    longPath = undefined;
    if (type !== '0') continue;
    if (!path.startsWith('package/')) throw new Error(`tarball entry outside package/: ${path}`);
    files.push({ path: path.slice('package/'.length), contents: Buffer.from(contents) });
  }
  return files;
}
