import { open, stat } from 'node:fs/promises';
import { resolve, join } from 'node:path';
import { LeRobotError } from './errors';
import { cleanRelativePath, missingFile, type ByteRange, type DatasetStorage } from './storage';

/** A dataset in a local folder (Node only). */
export class NodeFileStorage implements DatasetStorage {
  /** Absolute path of the dataset root. */
  readonly root: string;
  readonly location: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.location = this.root;
  }

  localPath(path: string): string {
    return join(this.root, cleanRelativePath(path));
  }

  async read(path: string, range?: ByteRange): Promise<Uint8Array> {
    const full = this.localPath(path);
    let handle;
    try {
      handle = await open(full, 'r');
    } catch (e) {
      throw this.failure(path, e);
    }
    try {
      const size = (await handle.stat()).size;
      const start = Math.max(0, range?.start ?? 0);
      const end = Math.min(size, range?.end ?? size);
      const out = new Uint8Array(Math.max(0, end - start));
      let done = 0;
      while (done < out.length) {
        const { bytesRead } = await handle.read(out, done, out.length - done, start + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done === out.length ? out : out.subarray(0, done);
    } catch (e) {
      throw this.failure(path, e);
    } finally {
      await handle.close();
    }
  }

  async size(path: string): Promise<number> {
    let info;
    try {
      info = await stat(this.localPath(path));
    } catch (e) {
      throw this.failure(path, e);
    }
    if (!info.isFile()) throw missingFile(this, path);
    return info.size;
  }

  // Absent paths and folders are `missing_file`; any other OS error is `io_error`, naming the file.
  private failure(path: string, e: unknown): LeRobotError {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return missingFile(this, path, e);
    return new LeRobotError(
      'io_error',
      `cannot read ${path} (in dataset ${this.location}): ${(e as Error).message}`,
      {
        path,
        cause: e,
      },
    );
  }

  async exists(path: string): Promise<boolean> {
    try {
      return (await stat(this.localPath(path))).isFile();
    } catch {
      return false;
    }
  }
}
