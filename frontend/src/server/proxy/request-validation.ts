/**
 * Checks a request against the operation's own schemas in the spec (JSON Schema 2020-12 via
 * ajv), so the proxy refuses exactly what the service would, with the same 400 shape, before
 * anything is forwarded. Header and query values are strings on the wire; numbers are coerced
 * only where the schema says integer or number.
 */

import Ajv2020, { type ErrorObject, type ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { type Operation, type ParameterObject, spec } from "./operations";
import type { InvalidParam } from "./problems";

const SPEC_ID = "urn:spotter:openapi";

const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, validateFormats: true });
addFormats(ajv, ["date", "date-time", "uuid"]);
// OpenAPI annotations that are not JSON Schema keywords.
ajv.addVocabulary(["example", "discriminator", "xml", "externalDocs", "components"]);
// Only `components` is registered: every `$ref` in the spec points into it.
ajv.addSchema({ $id: SPEC_ID, components: spec.components } as object, SPEC_ID);

const compiled = new WeakMap<object, ValidateFunction>();

function validatorFor(schema: Record<string, unknown>): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(absoluteRefs(schema));
    compiled.set(schema, validate);
  }
  return validate;
}

/** Inline schemas (parameters, bodies) reference `#/components/...`; point those at the spec. */
function absoluteRefs(node: unknown): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(node).replaceAll('"$ref":"#/components/', `"$ref":"${SPEC_ID}#/components/`),
  ) as Record<string, unknown>;
}

export interface RequestParts {
  readonly headers: Headers;
  readonly pathParams: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
}

/** Every problem with the request's parameters (empty when valid). */
export function parameterProblems(operation: Operation, request: RequestParts): InvalidParam[] {
  const problems: InvalidParam[] = [];
  for (const parameter of operation.parameters) {
    const raw = rawValue(parameter, request);
    if (raw === null) {
      if (parameter.required) problems.push({ location: locationOf(parameter), name: parameter.name, message: "is required" });
      continue;
    }
    const validate = validatorFor(parameter.schema);
    if (!validate(coerce(raw, parameter.schema))) {
      for (const error of validate.errors ?? []) {
        problems.push({ location: locationOf(parameter), name: parameter.name, message: error.message ?? "is invalid" });
      }
    }
  }
  return problems;
}

/** Every problem with a parsed JSON body (empty when valid). */
export function bodyProblems(schema: Record<string, unknown>, body: unknown): InvalidParam[] {
  const validate = validatorFor(schema);
  if (validate(body)) return [];
  return (validate.errors ?? []).map((error) => ({ location: "body", name: jsonPath(error), message: bodyMessage(error) }));
}

function rawValue(parameter: ParameterObject, request: RequestParts): string | null {
  switch (parameter.in) {
    case "header":
      return request.headers.get(parameter.name);
    case "path":
      return request.pathParams[parameter.name] ?? null;
    case "query":
      return request.query.get(parameter.name);
    case "cookie":
      return null;
  }
}

function locationOf(parameter: ParameterObject): InvalidParam["location"] {
  return parameter.in === "cookie" ? "header" : parameter.in;
}

const NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;

function coerce(raw: string, schema: Record<string, unknown>): unknown {
  const type = schema.type;
  if ((type === "integer" || type === "number") && NUMBER.test(raw.trim())) return Number(raw.trim());
  return raw;
}

function jsonPath(error: ErrorObject): string {
  const segments = error.instancePath.split("/").slice(1).map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
  if (error.keyword === "required") segments.push(String(error.params.missingProperty));
  if (error.keyword === "additionalProperties") segments.push(String(error.params.additionalProperty));
  return "$" + segments.map((s) => (/^[0-9]+$/.test(s) ? `[${s}]` : `.${s}`)).join("");
}

function bodyMessage(error: ErrorObject): string {
  if (error.keyword === "required") return "is required";
  if (error.keyword === "additionalProperties") return "is not allowed";
  return error.message ?? "is invalid";
}
