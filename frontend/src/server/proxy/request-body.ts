/**
 * Reads a JSON request body the way the service does: 415 unless it is JSON, 413 above the
 * limit (refused on `Content-Length` before reading, and never reading more than the limit),
 * 400 when it does not parse.
 */

export const MAX_BODY_BYTES = 64 * 1024;

export type BodyRead =
  | { readonly kind: "ok"; readonly bytes: Uint8Array<ArrayBuffer>; readonly value: unknown }
  | { readonly kind: "unsupported-media-type" }
  | { readonly kind: "too-large" }
  | { readonly kind: "invalid"; readonly message: string };

export function isJsonMediaType(contentType: string | null): boolean {
  const media = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  return media === "application/json" || (media.startsWith("application/") && media.endsWith("+json"));
}

export async function readJsonBody(request: Request, limit = MAX_BODY_BYTES): Promise<BodyRead> {
  if (!isJsonMediaType(request.headers.get("content-type"))) return { kind: "unsupported-media-type" };
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) return { kind: "too-large" };
  const bytes = await readAtMost(request.body, limit);
  if (bytes === null) return { kind: "too-large" };
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return { kind: "invalid", message: "not valid UTF-8" };
  }
  try {
    return { kind: "ok", bytes, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { kind: "invalid", message: `not valid JSON: ${(error as Error).message}` };
  }
}

/** The stream's bytes, or null as soon as it exceeds `limit` (the rest is not read). */
async function readAtMost(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array<ArrayBuffer> | null> {
  if (!body) return new Uint8Array();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
