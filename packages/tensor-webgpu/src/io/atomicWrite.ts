// A crash or a full disk must never leave a half-written checkpoint under the real name: write a
// temporary file in the same directory (same filesystem, so rename is atomic), fsync it, rename it
// over the target, then fsync the directory so the rename itself survives a power loss.
import { nodeModule } from './byteSource.js';

type FsPromises = typeof import('node:fs/promises');
type PathModule = typeof import('node:path');

/** Something that appends bytes to the file being written. */
export type WriteChunk = (bytes: Uint8Array) => Promise<void>;

/**
 * Creates `path` atomically (Node only): `produce` writes the content through `write`, in order.
 * On any error the temporary file is removed and the original `path` is untouched.
 */
export async function writeFileAtomic(
  path: string,
  produce: (write: WriteChunk) => Promise<void>,
): Promise<void> {
  const fs = await nodeModule<FsPromises>('node:fs/promises');
  const { dirname, basename, join } = await nodeModule<PathModule>('node:path');
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const handle = await fs.open(tmp, 'wx');
  let ok = false;
  try {
    let position = 0;
    await produce(async (bytes) => {
      let done = 0;
      while (done < bytes.byteLength) {
        const { bytesWritten } = await handle.write(
          bytes,
          done,
          Math.min(bytes.byteLength - done, 1 << 30),
          position,
        );
        done += bytesWritten;
        position += bytesWritten;
      }
    });
    await handle.sync();
    await handle.close();
    await fs.rename(tmp, path);
    ok = true;
  } finally {
    if (!ok) {
      await handle.close().catch(() => undefined);
      await fs.rm(tmp, { force: true }).catch(() => undefined);
    }
  }
  // Directory fsync is not supported everywhere (e.g. Windows); the data itself is already synced.
  const d = await fs.open(dir, 'r').catch(() => null);
  if (d)
    await d
      .sync()
      .catch(() => undefined)
      .finally(() => d.close());
}
