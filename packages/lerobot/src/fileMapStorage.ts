import { cleanRelativePath, missingFile, type ByteRange, type DatasetStorage } from './storage';

/** The part of `Blob`/`File` this storage needs. */
export interface BlobLike {
  readonly size: number;
  slice(start?: number, end?: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

/** The part of the File System Access API's directory handle used by {@link FileMapStorage.fromDirectoryHandle}. */
export interface DirectoryHandleLike {
  readonly kind: 'directory';
  readonly name: string;
  entries(): AsyncIterable<[string, DirectoryHandleLike | FileHandleLike]>;
}

/** A file handle of the File System Access API. */
export interface FileHandleLike {
  readonly kind: 'file';
  readonly name: string;
  getFile(): Promise<BlobLike>;
}

/**
 * A dataset given as a map from relative path to `File`/`Blob` (browser drag-and-drop,
 * `<input webkitdirectory>`, or a `FileSystemDirectoryHandle` walked once).
 */
export class FileMapStorage implements DatasetStorage {
  readonly location: string;
  private readonly files: Map<string, BlobLike>;

  constructor(files: Map<string, BlobLike> | Record<string, BlobLike>, location = 'local files') {
    const entries = files instanceof Map ? [...files.entries()] : Object.entries(files);
    this.files = new Map(entries.map(([k, v]) => [cleanRelativePath(k), v]));
    this.location = location;
  }

  /**
   * Builds the storage from files picked with `<input type="file" webkitdirectory>`: their
   * `webkitRelativePath` starts with the picked folder's name, which is stripped.
   */
  static fromFileList(
    list: Iterable<BlobLike & { webkitRelativePath: string; name: string }>,
  ): FileMapStorage {
    const map = new Map<string, BlobLike>();
    let root = 'local files';
    for (const f of list) {
      const rel = f.webkitRelativePath || f.name;
      const slash = rel.indexOf('/');
      if (slash >= 0) root = rel.slice(0, slash);
      map.set(slash >= 0 ? rel.slice(slash + 1) : rel, f);
    }
    return new FileMapStorage(map, root);
  }

  /** Walks a directory handle (File System Access API) and maps every file under it. */
  static async fromDirectoryHandle(dir: DirectoryHandleLike): Promise<FileMapStorage> {
    const map = new Map<string, BlobLike>();
    const walk = async (d: DirectoryHandleLike, prefix: string): Promise<void> => {
      for await (const [name, handle] of d.entries()) {
        if (handle.kind === 'directory') await walk(handle, `${prefix}${name}/`);
        else map.set(prefix + name, await handle.getFile());
      }
    };
    await walk(dir, '');
    return new FileMapStorage(map, dir.name);
  }

  private get(path: string): BlobLike {
    const f = this.files.get(cleanRelativePath(path));
    if (!f) throw missingFile(this, path);
    return f;
  }

  async read(path: string, range?: ByteRange): Promise<Uint8Array> {
    const f = this.get(path);
    const blob = range ? f.slice(range.start, Math.min(range.end, f.size)) : f.slice(0, f.size);
    return new Uint8Array(await blob.arrayBuffer());
  }

  async size(path: string): Promise<number> {
    return this.get(path).size;
  }

  async exists(path: string): Promise<boolean> {
    return this.files.has(cleanRelativePath(path));
  }
}
