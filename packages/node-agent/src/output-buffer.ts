/**
 * Combined stdout/stderr of a step, bounded: only the last `limitBytes` are kept, however
 * much the step prints. The tail that goes into events is cut to whole characters.
 */
export const OUTPUT_KEEP_BYTES = 64 * 1024;
export const OUTPUT_TAIL_CHARS = 4096;

export class OutputBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  private dropped = 0;

  constructor(private readonly limitBytes = OUTPUT_KEEP_BYTES) {}

  append(chunk: Buffer | string): void {
    let buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    if (buf.length === 0) return;
    if (buf.length >= this.limitBytes) {
      this.dropped += this.size + buf.length - this.limitBytes;
      buf = buf.subarray(buf.length - this.limitBytes);
      this.chunks = [Buffer.from(buf)];
      this.size = buf.length;
      return;
    }
    this.chunks.push(Buffer.from(buf));
    this.size += buf.length;
    while (this.size > this.limitBytes) {
      const first = this.chunks[0] as Buffer;
      const excess = this.size - this.limitBytes;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
        this.dropped += first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
        this.dropped += excess;
      }
    }
  }

  /** Bytes kept. */
  get length(): number {
    return this.size;
  }

  /** Bytes that no longer fit and were dropped from the front. */
  get droppedBytes(): number {
    return this.dropped;
  }

  text(): string {
    // A cut in the middle of a multi-byte character decodes as U+FFFD; drop it.
    return Buffer.concat(this.chunks)
      .toString("utf8")
      .replace(/^\uFFFD+/, "");
  }

  /** The last `maxChars` characters (whole code points), trimmed of trailing whitespace. */
  tail(maxChars = OUTPUT_TAIL_CHARS): string {
    return tailOf(this.text(), maxChars);
  }
}

export function tailOf(text: string, maxChars = OUTPUT_TAIL_CHARS): string {
  const trimmed = text.trimEnd();
  if (trimmed.length <= maxChars) return trimmed;
  let cut = trimmed.slice(trimmed.length - maxChars);
  // Never start with the second half of a surrogate pair.
  if (/^[\uDC00-\uDFFF]/.test(cut)) cut = cut.slice(1);
  return cut;
}
