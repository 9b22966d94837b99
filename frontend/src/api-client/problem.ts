/** Reads an error answer from the web app's API into one line a person can act on. */

import type { components } from "@/generated/openapi";

type ValidationProblem = components["schemas"]["ValidationProblem"];

export async function problemMessage(response: Response): Promise<string> {
  try {
    const problem = (await response.json()) as Partial<ValidationProblem>;
    const details = (problem.errors ?? []).map((error) => `${error.name ? `${error.name}: ` : ""}${error.message}`);
    const head = problem.detail ?? problem.title ?? `HTTP ${response.status}`;
    return details.length ? `${head} (${details.join("; ")})` : head;
  } catch {
    return `The request failed (HTTP ${response.status}).`;
  }
}
