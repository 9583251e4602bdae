import { createHash } from 'node:crypto';
import type { ContainerConfig } from '../containers/types.js';
import type { Reference } from './reference.js';

/** A layer of an image: the blob as stored and the digest of its plain tar. */
export interface LayerRef {
  /** Digest of the blob in the content store (compressed or not, as received). */
  digest: string;
  /** Digest of the uncompressed tar (the config's `rootfs.diff_ids`). */
  diffId: string;
  mediaType: string;
  /** Blob size in bytes. */
  size: number;
  /** Bytes of file content once unpacked (what `docker images` counts). */
  unpackedSize: number;
}

/** What the image service keeps per image (the config itself is a blob). */
export interface ImageRecord {
  /** `sha256:` + digest of the config blob. */
  id: string;
  layers: LayerRef[];
  manifestDigest: string;
  /** Image this one was committed from, when known locally. */
  parent?: string;
  lastTagTime?: string;
}

/** The OCI/Docker image config JSON (the blob the image ID is the digest of). */
export interface ImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  author?: string;
  comment?: string;
  config?: ContainerConfig;
  container_config?: ContainerConfig;
  container?: string;
  docker_version?: string;
  history?: HistoryEntry[];
  rootfs: { type: 'layers'; diff_ids: string[] };
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** Who uses an image: lets `rmi` and `prune` refuse, and `images` count. */
export type ContainerLookup = (imageId: string) => Array<{ id: string; running: boolean }>;

export const mediaTypes = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
};

export interface CreateOptions {
  /** Image this one was committed from. */
  parent?: string;
  /** Names to give the image as it is created (import -t, load, commit). */
  names?: Reference[];
  /** Digest of a manifest blob already stored for this image (a pull); else one is written. */
  manifestDigest?: string;
  /** Told as each layer is unpacked (a pull reports `Extracting`/`Pull complete`). */
  onUnpack?: (index: number, phase: 'exists' | 'start' | 'done') => void;
  /** Filled with the names that moved here from another image. */
  replaced?: Array<{ ref: Reference; previous: string }>;
}

/** One line of an `rmi`/prune answer, as Docker's `DELETE /images/{name}` gives it. */
export type DeleteItem = { Untagged: string } | { Deleted: string };

/** The chain ID of each layer (OCI image spec): identifies a layer together with everything below it. */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev ? 'sha256:' + createHash('sha256').update(`${prev} ${d}`).digest('hex') : d);
  }
  return out;
}

