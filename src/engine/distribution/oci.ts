/**
 * The OCI/Docker image-spec shapes the registry client and server exchange:
 * descriptors, manifests, indexes, their media types, and digest checks.
 *
 *   const d = parseDigest('sha256:ab12...')   // throws on anything malformed
 */
import { createHash } from 'node:crypto';

export const MediaType = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

/** Media types a manifest endpoint serves; also the client's Accept list, most wanted first. */
export const manifestMediaTypes: readonly string[] = [
  MediaType.ociIndex, MediaType.dockerManifestList, MediaType.ociManifest, MediaType.dockerManifest,
];

export function isIndexType(mt: string | undefined): boolean {
  return mt === MediaType.ociIndex || mt === MediaType.dockerManifestList;
}

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

const digestRe = /^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$/;

/** Splits `sha256:<hex>`; throws on other algorithms or malformed hex. */
export function parseDigest(digest: string): { algorithm: 'sha256' | 'sha512'; hex: string } {
  if (!digestRe.test(digest)) throw new Error(`invalid digest: ${JSON.stringify(digest)}`);
  const [algorithm, hex] = digest.split(':') as ['sha256' | 'sha512', string];
  return { algorithm, hex };
}

export function isDigest(s: string): boolean {
  return digestRe.test(s);
}

export function sha256Digest(data: Uint8Array | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

/**
 * The media type a manifest declares, falling back to its shape: Docker and OCI
 * both allow the field to be absent (OCI only recommends it).
 */
export function manifestMediaType(parsed: any): string | undefined {
  if (typeof parsed?.mediaType === 'string') return parsed.mediaType;
  if (Array.isArray(parsed?.manifests)) return MediaType.ociIndex;
  if (parsed?.config && Array.isArray(parsed?.layers)) return MediaType.ociManifest;
  return undefined;
}
