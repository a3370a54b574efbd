import { pack as createPack, type Header } from "tar-stream";

export interface TarEntry {
  header: Partial<Header> & { name: string };
  data?: Buffer | string;
}

/** A tar archive in memory, as tar-stream writes it (pax headers for long names). */
export async function makeTar(entries: TarEntry[]): Promise<Buffer> {
  const pack = createPack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  })();
  for (const { header, data } of entries) {
    await new Promise<void>((resolve, reject) => {
      if (data === undefined) pack.entry(header, (error) => (error ? reject(error) : resolve()));
      else pack.entry(header, data, (error) => (error ? reject(error) : resolve()));
    });
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}

/**
 * A copy of `tar` with a field of the header at block `block` overwritten by `value` (NUL
 * padded) and the header's checksum made right again: a header no packer writes, but one a
 * hostile client can.
 */
export function withHeaderField(tar: Buffer, block: number, field: { offset: number; length: number }, value: string): Buffer {
  const copy = Buffer.from(tar);
  const start = block * 512;
  copy.fill(0, start + field.offset, start + field.offset + field.length);
  copy.write(value, start + field.offset, field.length, "latin1");
  copy.fill(0x20, start + 148, start + 156);
  let sum = 0;
  for (let i = start; i < start + 512; i++) sum += copy[i] as number;
  copy.write(`${sum.toString(8).padStart(6, "0")}\0 `, start + 148, 8, "latin1");
  return copy;
}

/** Where ustar keeps the modification time (octal seconds) in a header block. */
export const MTIME_FIELD = { offset: 136, length: 12 };
