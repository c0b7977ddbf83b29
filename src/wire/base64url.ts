/** `bytes` as base64url, without padding (safe in headers, URLs and environment variables). */
export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}
