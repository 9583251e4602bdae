export { EngineClient, DEFAULT_HOST, CLIENT_API_VERSION, readAll, queryString, type Hijacked, type RequestOptions, type Query } from './engine-client.js';
export { DaemonError, ConnectionError, StreamError } from './errors.js';
export { StdcopyDemuxer, encodeFrame, STDIN, STDOUT, STDERR, SYSERR, type StdStream } from './stdcopy.js';
