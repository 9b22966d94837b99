"use client";

import { useCallback, useEffect, useState } from "react";
import { problemMessage } from "@/api-client/problem";
import type { Workout, WorkoutPage } from "@/workouts/workout-form";
import { WorkoutForm } from "./WorkoutForm";
import { WorkoutList } from "./WorkoutList";

/** The workouts page: the log form and the list. */
export function WorkoutsView() {
  const [workouts, setWorkouts] = useState<Workout[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const response = await fetch("/api/v1/workouts?limit=100", { headers: { Accept: "application/json" }, cache: "no-store" });
      if (!response.ok) {
        setError(await problemMessage(response));
        setWorkouts([]);
        return;
      }
      setWorkouts(((await response.json()) as WorkoutPage).items);
    } catch {
      setError("The web app could not be reached.");
    }
  }, []);

  useEffect(() => {
    // Fetching on mount is the point of this effect.
    // eslint-disable-next-line react-hooks/set-state-in-effect
    void load();
  }, [load]);

  async function remove(workout: Workout) {
    setError(null);
    const response = await fetch(`/api/v1/workouts/${workout.id}`, { method: "DELETE" });
    if (!response.ok && response.status !== 404) {
      setError(await problemMessage(response));
      return;
    }
    setWorkouts((current) => current?.filter((w) => w.id !== workout.id) ?? null);
  }

  return (
    <div className="page">
      <h1>Workouts</h1>
      <WorkoutForm onLogged={() => void load()} />
      <section aria-labelledby="workout-list-title">
        <h2 id="workout-list-title">Your log</h2>
        {error ? <p className="notice notice-error" role="alert">{error}</p> : null}
        <WorkoutList workouts={workouts} onDelete={(workout) => void remove(workout)} />
      </section>
    </div>
  );
}
