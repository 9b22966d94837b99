"use client";

import type { Workout } from "@/workouts/workout-form";
import { describeSet } from "@/workouts/workout-form";

interface Props {
  readonly workouts: readonly Workout[] | null;
  readonly onDelete: (workout: Workout) => void;
}

/** The user's workouts, newest first, each deletable. */
export function WorkoutList({ workouts, onDelete }: Props) {
  if (workouts === null) return <p className="muted">Loading workouts…</p>;
  if (!workouts.length) return <p className="muted">No workouts yet. Log one and ask the coach about it.</p>;
  return (
    <ul className="workout-list" aria-label="Your workouts">
      {workouts.map((workout) => (
        <li key={workout.id} className="card workout">
          <div className="workout-head">
            <div>
              <h3>{workout.title}</h3>
              <time dateTime={workout.date} className="muted small">{workout.date}</time>
            </div>
            <button type="button" className="button button-ghost button-small" aria-label={`Delete ${workout.title} (${workout.date})`}
              onClick={() => onDelete(workout)}>
              Delete
            </button>
          </div>
          {workout.notes ? <p className="workout-notes">{workout.notes}</p> : null}
          {workout.sets.length ? (
            <ul className="set-list">
              {workout.sets.map((set, index) => (
                <li key={index}>{describeSet(set)}</li>
              ))}
            </ul>
          ) : null}
        </li>
      ))}
    </ul>
  );
}
