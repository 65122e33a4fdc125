/**
 * Typed errors of the remote-write decoding path (snappy preamble check,
 * decompression, protobuf decoding, label validation).
 *
 * Every failure of `snappy.ts` and `decode.ts` is a `DecodeError` whose
 * `reason` is one of `DECODE_ERROR_REASONS`. The reasons are stable strings:
 * the HTTP handler maps them to its response catalogue (errorForDecodeReason in
 * sink/errors.ts), dashboards may count them. The message is one plain
 * sentence naming what was wrong; it is meant for people and may change.
 */

export const DECODE_ERROR_REASONS = [
  /** Snappy body corrupt, truncated, or its length preamble disagrees with the data. */
  'bad_snappy',
  /** The snappy preamble announces more uncompressed bytes than allowed. */
  'too_large',
  /** Protobuf truncated, bad varint, length beyond the buffer, wrong wire type, invalid UTF-8. */
  'bad_protobuf',
  /** A label name does not match [a-zA-Z_][a-zA-Z0-9_]*, or __name__ has an empty value. */
  'invalid_label_name',
  /** Label names of a series are not strictly increasing (byte-wise). */
  'unsorted_labels',
  /** The same label name appears twice in a series. */
  'duplicate_label',
  /** A series has more labels than the configured limit. */
  'too_many_labels',
  /** A label value is longer (in UTF-8 bytes) than the configured limit. */
  'label_value_too_long',
  /** A series has no __name__ label. */
  'missing_metric_name',
  /** Remote write 2.0: a label reference is out of range, the count is odd, or symbols[0] is not "". */
  'bad_symbol_ref',
  /**
   * A native histogram Prometheus would refuse: schema outside -4..8 and -53,
   * spans covering a different number of buckets than it has counts for, a
   * later span with a negative offset, a negative bucket count, bad custom
   * buckets; or bucket indexes beyond float64 range.
   */
  'bad_histogram',
] as const;

export type DecodeErrorReason = (typeof DECODE_ERROR_REASONS)[number];

export interface DecodeErrorDetails {
  /** Index of the offending series in the request, when the error concerns one series. */
  seriesIndex?: number;
  /** Name of the offending label, when the error concerns one label. */
  labelName?: string;
  /** Byte offset in the decompressed protobuf (bad_protobuf) or the compressed body (bad_snappy). */
  offset?: number;
}

export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  readonly reason: DecodeErrorReason;
  readonly seriesIndex: number | undefined;
  readonly labelName: string | undefined;
  readonly offset: number | undefined;

  constructor(reason: DecodeErrorReason, message: string, details: DecodeErrorDetails = {}) {
    super(message);
    this.reason = reason;
    this.seriesIndex = details.seriesIndex;
    this.labelName = details.labelName;
    this.offset = details.offset;
  }
}

export function isDecodeError(err: unknown): err is DecodeError {
  return err instanceof DecodeError;
}

/**
 * Quote a name for an error message: JSON string syntax (so control bytes stay
 * visible), at most 64 characters of the original.
 */
export function quoteForMessage(s: string): string {
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s);
}
