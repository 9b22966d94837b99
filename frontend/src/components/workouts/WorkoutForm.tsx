"use client";

import { type FormEvent, useState } from "react";
import { problemMessage } from "@/api-client/problem";
import { randomId } from "@/chat/ids";
import { type SetFields, type Workout, type WorkoutFields, emptySet, toWorkoutInput, today } from "@/workouts/workout-form";

interface Props {
  readonly onLogged: (workout: Workout) => void;
}

function blankForm(): WorkoutFields {
  return { date: today(), title: "", notes: "", sets: [emptySet(randomId())] };
}

/** Logs a workout: date, title, notes and any number of sets. */
export function WorkoutForm({ onLogged }: Props) {
  const [fields, setFields] = useState<WorkoutFields>(blankForm);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  const updateSet = (key: string, change: Partial<SetFields>) =>
    setFields((current) => ({ ...current, sets: current.sets.map((set) => (set.key === key ? { ...set, ...change } : set)) }));

  async function submit(event: FormEvent) {
    event.preventDefault();
    setSaving(true);
    setError(null);
    try {
      const response = await fetch("/api/v1/workouts", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(toWorkoutInput(fields)),
      });
      if (!response.ok) {
        setError(await problemMessage(response));
        return;
      }
      onLogged((await response.json()) as Workout);
      setFields(blankForm());
    } catch {
      setError("The web app could not be reached.");
    } finally {
      setSaving(false);
    }
  }

  return (
    <form className="card form" onSubmit={submit} aria-labelledby="log-workout">
      <h2 id="log-workout">Log a workout</h2>
      <div className="row">
        <label className="field">
          <span>Date</span>
          <input type="date" required value={fields.date} onChange={(e) => setFields({ ...fields, date: e.target.value })} />
        </label>
        <label className="field grow">
          <span>Title</span>
          <input
            type="text"
            required
            maxLength={200}
            placeholder="Leg day"
            value={fields.title}
            onChange={(e) => setFields({ ...fields, title: e.target.value })}
          />
        </label>
      </div>
      <label className="field">
        <span>Notes</span>
        <textarea rows={2} maxLength={4000} value={fields.notes} onChange={(e) => setFields({ ...fields, notes: e.target.value })} />
      </label>
      <fieldset className="sets">
        <legend>Sets</legend>
        {fields.sets.map((set, index) => (
          <div className="set-row" key={set.key} role="group" aria-label={`Set ${index + 1}`}>
            <label className="field grow">
              <span>Exercise</span>
              <input type="text" maxLength={200} value={set.exercise} onChange={(e) => updateSet(set.key, { exercise: e.target.value })} />
            </label>
            <label className="field narrow">
              <span>Reps</span>
              <input type="number" min={1} max={1000} inputMode="numeric" required={Boolean(set.exercise.trim())}
                value={set.reps} onChange={(e) => updateSet(set.key, { reps: e.target.value })} />
            </label>
            <label className="field narrow">
              <span>Load</span>
              <input type="number" min={0} max={2000} step="any" inputMode="decimal" value={set.load}
                onChange={(e) => updateSet(set.key, { load: e.target.value })} />
            </label>
            <label className="field narrow">
              <span>Unit</span>
              <select value={set.unit} onChange={(e) => updateSet(set.key, { unit: e.target.value === "lb" ? "lb" : "kg" })}>
                <option value="kg">kg</option>
                <option value="lb">lb</option>
              </select>
            </label>
            <label className="field narrow">
              <span>RPE</span>
              <input type="number" min={1} max={10} step={0.5} inputMode="decimal" value={set.rpe}
                onChange={(e) => updateSet(set.key, { rpe: e.target.value })} />
            </label>
            <button type="button" className="button button-ghost button-small" aria-label={`Remove set ${index + 1}`}
              disabled={fields.sets.length === 1}
              onClick={() => setFields({ ...fields, sets: fields.sets.filter((s) => s.key !== set.key) })}>
              Remove
            </button>
          </div>
        ))}
        <button type="button" className="button button-ghost button-small"
          onClick={() => setFields({ ...fields, sets: [...fields.sets, emptySet(randomId(), fields.sets.at(-1)?.unit)] })}>
          Add set
        </button>
      </fieldset>
      {error ? <p className="notice notice-error" role="alert">{error}</p> : null}
      <button type="submit" className="button button-primary" disabled={saving}>
        {saving ? "Saving…" : "Log workout"}
      </button>
    </form>
  );
}
