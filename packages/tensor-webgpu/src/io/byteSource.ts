// Random access to the bytes of a file without holding it all in memory: a FileHandle in Node
// (models are larger than the 2 GiB an ArrayBuffer may hold), Blob slices in the browser, or a
// buffer already in memory.

/** Bytes a reader can fetch at any offset. */
export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /** A name for error messages (file path, "Blob", "buffer"). */
  readonly name: string;
  /** Exactly `length` bytes starting at `offset`, in a fresh buffer the caller owns. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Releases the file handle, if any. */
  close(): Promise<void>;
}

/** Anything the readers accept: a path (Node only), a Blob/File, or bytes. */
export type ByteSourceInput = string | Blob | ArrayBuffer | ArrayBufferView;

// Node refuses single reads above 2 GiB; large tensors are read in pieces.
const READ_CHUNK = 1 << 30;

function fromBytes(bytes: Uint8Array, name: string): ByteSource {
  return {
    size: bytes.byteLength,
    name,
    read(offset, length) {
      if (offset + length > bytes.byteLength) {
        return Promise.reject(
          new Error(
            `${name}: read of ${length} bytes at ${offset} runs past the end (${bytes.byteLength} bytes)`,
          ),
        );
      }
      return Promise.resolve(bytes.slice(offset, offset + length));
    },
    close: () => Promise.resolve(),
  };
}

function fromBlob(blob: Blob): ByteSource {
  const name = (blob as File).name || 'Blob';
  return {
    size: blob.size,
    name,
    async read(offset, length) {
      if (offset + length > blob.size)
        throw new Error(
          `${name}: read of ${length} bytes at ${offset} runs past the end (${blob.size} bytes)`,
        );
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
    close: () => Promise.resolve(),
  };
}

/** Loads a Node built-in without letting browser bundlers see the import. @internal */
export async function nodeModule<T>(name: string): Promise<T> {
  if (typeof process === 'undefined' || !process.versions?.node) {
    throw new Error(`file paths need Node (${name}); in the browser pass a Blob, File or ArrayBuffer`);
  }
  return (await import(/* @vite-ignore */ name)) as T;
}

type FsPromises = typeof import('node:fs/promises');

async function fromPath(path: string): Promise<ByteSource> {
  const fs = await nodeModule<FsPromises>('node:fs/promises');
  const handle = await fs.open(path, 'r');
  let size: number;
  try {
    size = (await handle.stat()).size;
  } catch (e) {
    await handle.close();
    throw e;
  }
  return {
    size,
    name: path,
    async read(offset, length) {
      if (offset + length > size)
        throw new Error(`${path}: read of ${length} bytes at ${offset} runs past the end (${size} bytes)`);
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const want = Math.min(READ_CHUNK, length - done);
        const { bytesRead } = await handle.read(out, done, want, offset + done);
        if (bytesRead === 0)
          throw new Error(
            `${path}: unexpected end of file at byte ${offset + done} (file changed while reading?)`,
          );
        done += bytesRead;
      }
      return out;
    },
    close: () => handle.close(),
  };
}

/** Opens a path (Node), Blob/File or in-memory bytes for random access. */
export async function openByteSource(input: ByteSourceInput): Promise<ByteSource> {
  if (typeof input === 'string') return fromPath(input);
  if (typeof Blob !== 'undefined' && input instanceof Blob) return fromBlob(input);
  if (input instanceof ArrayBuffer) return fromBytes(new Uint8Array(input), 'buffer');
  if (ArrayBuffer.isView(input))
    return fromBytes(new Uint8Array(input.buffer, input.byteOffset, input.byteLength), 'buffer');
  throw new Error(
    `cannot read from ${Object.prototype.toString.call(input)}: pass a path, Blob, File, ArrayBuffer or Uint8Array`,
  );
}
