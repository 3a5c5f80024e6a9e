import { LeRobotError } from './errors';
import { cleanRelativePath, missingFile, type ByteRange, type DatasetStorage } from './storage';

/** Options of {@link UrlStorage}. */
export interface UrlStorageOptions {
  /** The fetch to use (default the global one). */
  fetch?: typeof fetch;
  /** Extra request headers (e.g. authorization). */
  headers?: Record<string, string>;
}

/**
 * A dataset served over HTTP under a base URL (browser or Node). Ranges use HTTP `Range`
 * requests; a server that ignores them still works, at the cost of whole-file downloads.
 */
export class UrlStorage implements DatasetStorage {
  readonly location: string;
  private readonly base: string;
  private readonly fetchFn: typeof fetch;
  private readonly headers: Record<string, string>;
  private readonly sizes = new Map<string, number>();

  constructor(baseUrl: string, options: UrlStorageOptions = {}) {
    this.base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
    this.location = this.base;
    this.fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.headers = options.headers ?? {};
  }

  private url(path: string): string {
    return this.base + cleanRelativePath(path).split('/').map(encodeURIComponent).join('/');
  }

  async read(path: string, range?: ByteRange): Promise<Uint8Array> {
    const headers: Record<string, string> = { ...this.headers };
    if (range) {
      if (range.end <= range.start) return new Uint8Array(0);
      headers.Range = `bytes=${range.start}-${range.end - 1}`;
    }
    const res = await this.fetchFn(this.url(path), { headers });
    if (res.status === 404 || res.status === 410) throw missingFile(this, path);
    if (!res.ok) {
      throw new LeRobotError('missing_file', `HTTP ${res.status} reading ${path} from ${this.location}`, {
        path,
      });
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    // 200 on a range request: the server sent the whole file.
    if (range && res.status === 200) return bytes.subarray(range.start, Math.min(range.end, bytes.length));
    return bytes;
  }

  async size(path: string): Promise<number> {
    const known = this.sizes.get(path);
    if (known !== undefined) return known;
    const res = await this.fetchFn(this.url(path), { method: 'HEAD', headers: this.headers });
    if (res.status === 404 || res.status === 410) throw missingFile(this, path);
    const len = Number(res.headers.get('content-length'));
    const size =
      res.ok && Number.isFinite(len) && res.headers.get('content-length') !== null
        ? len
        : (await this.read(path)).length;
    this.sizes.set(path, size);
    return size;
  }

  async exists(path: string): Promise<boolean> {
    const res = await this.fetchFn(this.url(path), { method: 'HEAD', headers: this.headers });
    return res.ok;
  }
}
