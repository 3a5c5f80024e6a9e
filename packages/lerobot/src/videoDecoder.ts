import type { Mp4Index, Mp4Sample } from './mp4Index';
import type { DatasetStorage } from './storage';

/** What a {@link VideoFrameDecoder} is asked to decode: some frames of one mp4 file. */
export interface VideoDecodeRequest {
  storage: DatasetStorage;
  /** Dataset-relative path of the mp4. */
  path: string;
  index: Mp4Index;
  /** Distinct frames, in presentation order. */
  frames: Mp4Sample[];
}

/**
 * Decodes frames of an mp4 into packed RGB (`height × width × 3` bytes each, row-major), one
 * array per requested frame, in request order. Node uses ffmpeg; browsers use WebCodecs.
 */
export interface VideoFrameDecoder {
  decode(request: VideoDecodeRequest): Promise<Uint8Array[]>;
  /** Releases processes, temp files or codec instances. */
  close?(): Promise<void>;
}
