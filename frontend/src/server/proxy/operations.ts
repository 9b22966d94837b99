/**
 * The spec's operations, looked up by `operationId` in the bundled OpenAPI 3.2 document (as
 * JSON, generated at build time): their paths, parameters, request bodies and security. The
 * proxy routes name an operation; everything else comes from here.
 */

import specDocument from "@/generated/openapi.json";
import type { operations } from "@/generated/openapi";

export type OperationId = keyof operations;

type JsonSchema = Record<string, unknown>;

interface Reference {
  readonly $ref: string;
}

export interface ParameterObject {
  readonly name: string;
  readonly in: "header" | "path" | "query" | "cookie";
  readonly required?: boolean;
  readonly schema: JsonSchema;
}

interface MediaTypeObject {
  readonly schema?: JsonSchema;
}

interface OperationObject {
  readonly operationId: string;
  readonly parameters?: readonly (ParameterObject | Reference)[];
  readonly requestBody?: { readonly required?: boolean; readonly content: Record<string, MediaTypeObject> };
  readonly responses: Record<string, unknown>;
  readonly security?: readonly Record<string, readonly string[]>[];
}

export interface OpenApiDocument {
  readonly openapi: string;
  readonly paths: Record<string, Record<string, unknown>>;
  readonly components: Record<string, Record<string, unknown>>;
  readonly security?: readonly Record<string, readonly string[]>[];
}

export interface Operation {
  readonly id: OperationId;
  readonly method: string;
  /** The service path template, e.g. `/v1/workouts/{workout_id}`. */
  readonly path: string;
  readonly parameters: readonly ParameterObject[];
  /** The request body's JSON schema, when the operation takes one. */
  readonly body: { readonly required: boolean; readonly schema: JsonSchema } | null;
  /** The documented responses: status -> response object (references resolved). */
  readonly responses: Readonly<Record<string, ResponseObject>>;
  /** Whether a personal API token may call it (sessions always may). */
  readonly acceptsApiToken: boolean;
}

export interface ResponseObject {
  readonly content?: Record<string, MediaTypeObject>;
}

const HTTP_METHODS = new Set(["get", "put", "post", "delete", "patch", "head", "options"]);

export const spec = specDocument as unknown as OpenApiDocument;

/** Resolves a local `#/components/...` reference in the spec. */
export function resolve<T>(node: T | Reference): T {
  if (typeof node !== "object" || node === null || !("$ref" in node)) return node as T;
  const pointer = node.$ref;
  if (!pointer.startsWith("#/")) throw new Error(`only local references are supported: ${pointer}`);
  let target: unknown = spec;
  for (const segment of pointer.slice(2).split("/")) {
    target = (target as Record<string, unknown>)[segment.replaceAll("~1", "/").replaceAll("~0", "~")];
    if (target === undefined) throw new Error(`unresolved reference ${pointer}`);
  }
  return resolve(target as T | Reference);
}

function buildIndex(document: OpenApiDocument): Map<string, Operation> {
  const index = new Map<string, Operation>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, value] of Object.entries(item)) {
      if (!HTTP_METHODS.has(method)) continue;
      const operation = value as OperationObject;
      const media = operation.requestBody?.content["application/json"];
      const security = operation.security ?? document.security ?? [];
      const responses = Object.fromEntries(
        Object.entries(operation.responses).map(([status, response]) => [
          status,
          resolve(response as ResponseObject | Reference),
        ]),
      );
      index.set(operation.operationId, {
        id: operation.operationId as OperationId,
        method: method.toUpperCase(),
        path,
        parameters: (operation.parameters ?? []).map((parameter) => resolve(parameter)),
        body: media?.schema ? { required: operation.requestBody?.required ?? false, schema: media.schema } : null,
        responses,
        acceptsApiToken: security.some((requirement) => "apiToken" in requirement),
      });
    }
  }
  return index;
}

const index = buildIndex(spec);

export function operation(id: OperationId): Operation {
  const found = index.get(id);
  if (!found) throw new Error(`operation ${id} is not in the spec`);
  return found;
}
