/** The workout form's state and its conversion to the spec's `WorkoutInput`. */

import type { components } from "@/generated/openapi";

export type WorkoutInput = components["schemas"]["WorkoutInput"];
export type Workout = components["schemas"]["Workout"];
export type WorkoutPage = components["schemas"]["WorkoutPage"];
type LoadUnit = components["schemas"]["Load"]["unit"];

export interface SetFields {
  readonly key: string;
  readonly exercise: string;
  readonly reps: string;
  readonly load: string;
  readonly unit: LoadUnit;
  readonly rpe: string;
}

export interface WorkoutFields {
  readonly date: string;
  readonly title: string;
  readonly notes: string;
  readonly sets: readonly SetFields[];
}

export function emptySet(key: string, unit: LoadUnit = "kg"): SetFields {
  return { key, exercise: "", reps: "", load: "", unit, rpe: "" };
}

/** Today's date in the browser's time zone, as `YYYY-MM-DD`. */
export function today(now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/** The request body; sets whose exercise is blank are left out (the service checks the rest). */
export function toWorkoutInput(fields: WorkoutFields): WorkoutInput {
  return {
    date: fields.date,
    title: fields.title.trim(),
    notes: fields.notes,
    sets: fields.sets
      .filter((set) => set.exercise.trim())
      .map((set) => ({
        exercise: set.exercise.trim(),
        reps: Number(set.reps),
        ...(set.load.trim() ? { load: { value: Number(set.load), unit: set.unit } } : {}),
        ...(set.rpe.trim() ? { rpe: Number(set.rpe) } : {}),
      })),
  };
}

/** A short human summary of one set, e.g. `Back squat 5 × 100 kg @ RPE 8`. */
export function describeSet(set: Workout["sets"][number]): string {
  const load = set.load ? ` × ${set.load.value} ${set.load.unit}` : "";
  const rpe = set.rpe !== undefined ? ` @ RPE ${set.rpe}` : "";
  return `${set.exercise}: ${set.reps} reps${load}${rpe}`;
}
