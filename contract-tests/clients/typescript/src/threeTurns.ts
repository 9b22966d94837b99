/**
 * A three-turn conversation, a resumed turn and a logged-then-deleted workout, typed by the
 * generated spec types. Prints a JSON summary; exits non-zero on any deviation from the spec.
 *
 *   npx tsx src/threeTurns.ts --base-url URL --token TOKEN
 */
import { parseArgs } from "node:util";
import { randomUUID } from "node:crypto";
import type { components } from "../../../.generated/typescript/openapi";
import { type ChatEvent, streamTurn } from "./chatStream";

type Schemas = components["schemas"];

const QUESTIONS = [
  "How many sets of squats should a beginner do?",
  "And how often per week?",
  "What should I eat after that workout?",
] as const;

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

async function collect(events: AsyncGenerator<ChatEvent>, stopAfter?: number): Promise<ChatEvent[]> {
  const seen: ChatEvent[] = [];
  for await (const event of events) {
    seen.push(event);
    if (seen.length === stopAfter) break; // drops the connection mid-turn
  }
  return seen;
}

async function converse(baseUrl: string, token: string, counts: Record<string, number>): Promise<number> {
  const conversationId = randomUUID();
  let turn = 0;
  for (const [index, message] of QUESTIONS.entries()) {
    const idempotencyKey = `turn-${conversationId}-${index + 1}`;
    const request = { baseUrl, token, conversationId, message, turn, idempotencyKey };
    let events = await collect(streamTurn(request), index === 2 ? 2 : undefined);
    if (index === 2) {
      const last = events[events.length - 1];
      check(last !== undefined, "no event before the drop");
      events = events.concat(await collect(streamTurn({ ...request, lastEventId: last.id })));
    }
    events.forEach((event, position) => check(event.id === position + 1, `event ids ${events.map((e) => e.id)}`));
    const done = events[events.length - 1];
    check(done?.event === "done", `turn ended with ${done?.event}`);
    const payload: Schemas["DonePayload"] = done.data;
    check(payload.turn === index + 1, `done.turn ${payload.turn} for turn ${index + 1}`);
    turn = payload.turn;
    for (const event of events) counts[event.event] = (counts[event.event] ?? 0) + 1;
  }
  return turn;
}

async function loggedAndDeletedWorkout(baseUrl: string, token: string): Promise<string> {
  const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
  const input: Schemas["WorkoutInput"] = {
    date: "2026-11-18", title: "Leg day",
    sets: [{ exercise: "Back squat", reps: 5, load: { value: 100, unit: "kg" }, rpe: 8 }],
  };
  const created = await fetch(`${baseUrl}/v1/workouts`, { method: "POST", headers, body: JSON.stringify(input) });
  check(created.status === 201, `create answered ${created.status}`);
  const workout = (await created.json()) as Schemas["Workout"];
  const item = `${baseUrl}/v1/workouts/${workout.id}`;
  const fetched = (await (await fetch(item, { headers })).json()) as Schemas["Workout"];
  check(fetched.title === "Leg day", `read back ${JSON.stringify(fetched)}`);
  check((await fetch(item, { method: "DELETE", headers })).status === 204, "delete did not answer 204");
  const gone = await fetch(item, { headers });
  const problem = (await gone.json()) as Schemas["Problem"];
  check(gone.status === 404 && problem.type === "urn:spotter:problem:not-found", `after delete: ${gone.status}`);
  return workout.id;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { "base-url": { type: "string" }, token: { type: "string" } } });
  const baseUrl = values["base-url"];
  const token = values.token;
  check(baseUrl !== undefined && token !== undefined, "--base-url and --token are required");
  const events: Record<string, number> = {};
  const turn = await converse(baseUrl, token, events);
  const deletedWorkout = await loggedAndDeletedWorkout(baseUrl, token);
  console.log(JSON.stringify({ turn, deletedWorkout, events }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
