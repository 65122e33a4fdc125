// Every error the sink answers with, in one catalogue. docs/errors.md lists the same
// codes; test/sink/errors-doc.test.ts keeps the two in step.
import createError from '@fastify/error';
import type { DecodeErrorReason } from './codec/decode-errors.ts';

export const SinkErrors = {
  BAD_SNAPPY: createError('SINK_ERR_BAD_SNAPPY', 'The body is not valid snappy: %s', 400),
  BODY_TOO_LARGE: createError('SINK_ERR_BODY_TOO_LARGE', 'The body is too large: %s', 413),
  BAD_PROTOBUF: createError('SINK_ERR_BAD_PROTOBUF', 'The body is not a valid remote-write protobuf message: %s', 400),
  INVALID_LABEL_NAME: createError('SINK_ERR_INVALID_LABEL_NAME', 'Invalid label name: %s', 400),
  UNSORTED_LABELS: createError('SINK_ERR_UNSORTED_LABELS', 'Labels are not sorted by name: %s', 400),
  DUPLICATE_LABEL: createError('SINK_ERR_DUPLICATE_LABEL', 'Duplicate label: %s', 400),
  TOO_MANY_LABELS: createError('SINK_ERR_TOO_MANY_LABELS', 'Too many labels: %s', 400),
  LABEL_VALUE_TOO_LONG: createError('SINK_ERR_LABEL_VALUE_TOO_LONG', 'Label value too long: %s', 400),
  MISSING_METRIC_NAME: createError('SINK_ERR_MISSING_METRIC_NAME', 'A series has no metric name: %s', 400),
  BAD_SYMBOL_REF: createError('SINK_ERR_BAD_SYMBOL_REF', 'Bad remote-write 2.0 symbol reference: %s', 400),
  BAD_HISTOGRAM: createError('SINK_ERR_BAD_HISTOGRAM', 'Bad native histogram: %s', 400),
  UNSUPPORTED_CONTENT_TYPE: createError('SINK_ERR_UNSUPPORTED_CONTENT_TYPE', 'Unsupported content type %s; send application/x-protobuf.', 415),
  UNSUPPORTED_PROTO: createError('SINK_ERR_UNSUPPORTED_PROTO', 'Unsupported protobuf message %s; send prometheus.WriteRequest or io.prometheus.write.v2.Request.', 415),
  UNSUPPORTED_ENCODING: createError('SINK_ERR_UNSUPPORTED_ENCODING', 'Unsupported content encoding %s; send snappy.', 415),
  UNAUTHORIZED: createError('SINK_ERR_UNAUTHORIZED', 'Missing or wrong credentials for %s.', 401),
  CONTROL_NEEDS_TOKEN: createError('SINK_ERR_CONTROL_NEEDS_TOKEN', 'Stopping and starting runs needs a token: start the sink with --token.', 403),
  START_DISABLED: createError('SINK_ERR_START_DISABLED', 'Starting runs from the API is off: start the sink with --allow-start.', 403),
  RUN_NOT_FOUND: createError('SINK_ERR_RUN_NOT_FOUND', 'No run has the testid %s.', 404),
  NOT_FOUND: createError('SINK_ERR_NOT_FOUND', 'No route %s.', 404),
  BAD_REQUEST: createError('SINK_ERR_BAD_REQUEST', 'Bad request: %s', 400),
  BAD_URL: createError('SINK_ERR_BAD_URL', 'The URL %s is not valid: a %%-escape in its path does not decode to UTF-8.', 400),
  PATH_SEGMENT_TOO_LONG: createError('SINK_ERR_PATH_SEGMENT_TOO_LONG', 'A segment of the path %s is longer than %s characters, the most a testid has.', 400),
  MALFORMED_HTTP: createError('SINK_ERR_MALFORMED_HTTP', 'The request is not valid HTTP/1.1 (%s); the connection is closed.', 400),
  HEADERS_TOO_LARGE: createError('SINK_ERR_HEADERS_TOO_LARGE', 'The request headers are larger than %s bytes; the connection is closed.', 431),
  REQUEST_TIMEOUT: createError('SINK_ERR_REQUEST_TIMEOUT', 'The request did not arrive whole within %s s (--request-timeout); the connection is closed.', 408),
  SERIES_UNREADABLE: createError('SINK_ERR_SERIES_UNREADABLE', 'The run %s is in the history, but its stored series %s is not readable (%s); move the file away to see the run without charts.', 500),
  TOO_MANY_K6_ADDRESSES: createError('SINK_ERR_TOO_MANY_K6_ADDRESSES', 'The run %s already has %s k6 addresses registered, the most a run keeps; this one was not registered.', 409),
  SPOOL_WRITE_FAILED: createError('SINK_ERR_SPOOL_WRITE_FAILED', 'The sink could not keep the request in its spool (%s), so it took none of it; send it again.', 503),
  HISTORY_WRITE_FAILED: createError('SINK_ERR_HISTORY_WRITE_FAILED', 'The end of run %s could not be written to the history (%s); the sink tries again every second, and the run is not finished until it is written.', 503),
  SHUTTING_DOWN: createError('SINK_ERR_SHUTTING_DOWN', 'The sink is shutting down; retry against its replacement.', 503),
  INTERNAL: createError('SINK_ERR_INTERNAL', 'Internal error; the sink logged the details.', 500),
} as const;

export type SinkErrorName = keyof typeof SinkErrors;

const BY_REASON: Record<DecodeErrorReason, SinkErrorName> = {
  bad_snappy: 'BAD_SNAPPY',
  too_large: 'BODY_TOO_LARGE',
  bad_protobuf: 'BAD_PROTOBUF',
  invalid_label_name: 'INVALID_LABEL_NAME',
  unsorted_labels: 'UNSORTED_LABELS',
  duplicate_label: 'DUPLICATE_LABEL',
  too_many_labels: 'TOO_MANY_LABELS',
  label_value_too_long: 'LABEL_VALUE_TOO_LONG',
  missing_metric_name: 'MISSING_METRIC_NAME',
  bad_symbol_ref: 'BAD_SYMBOL_REF',
  bad_histogram: 'BAD_HISTOGRAM',
};

export function errorForDecodeReason(reason: DecodeErrorReason, detail: string) {
  return new SinkErrors[BY_REASON[reason]](detail);
}

/** The body every error reply carries. */
export interface ErrorBody {
  code: string;
  message: string;
}
