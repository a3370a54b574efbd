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
