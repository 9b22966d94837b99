/** The workouts page: log a workout with sets, see it listed, delete it. */

import type { Page } from "playwright-core";

export interface LoggedSet {
  readonly exercise: string;
  readonly reps: number;
  readonly load?: number;
  readonly unit?: "kg" | "lb";
  readonly rpe?: number;
}

export class WorkoutsPage {
  constructor(
    private readonly page: Page,
    private readonly baseUrl: string,
  ) {}

  async open(): Promise<void> {
    await this.page.goto(`${this.baseUrl}/workouts`);
    await this.page.getByRole("heading", { name: "Your log" }).waitFor();
  }

  async log(workout: { title: string; notes: string; sets: LoggedSet[] }): Promise<void> {
    const form = this.page.locator("form", { has: this.page.getByRole("heading", { name: "Log a workout" }) });
    await form.getByLabel("Title").fill(workout.title);
    await form.getByLabel("Notes").fill(workout.notes);
    for (const [index, set] of workout.sets.entries()) {
      if (index > 0) await form.getByRole("button", { name: "Add set" }).click();
      const row = form.getByRole("group", { name: `Set ${index + 1}` });
      await row.getByLabel("Exercise").fill(set.exercise);
      await row.getByLabel("Reps").fill(String(set.reps));
      if (set.load !== undefined) await row.getByLabel("Load").fill(String(set.load));
      if (set.unit) await row.getByLabel("Unit").selectOption(set.unit);
      if (set.rpe !== undefined) await row.getByLabel("RPE").fill(String(set.rpe));
    }
    await form.getByRole("button", { name: "Log workout" }).click();
    await this.page.getByRole("list", { name: "Your workouts" }).getByRole("heading", { name: workout.title }).waitFor();
  }

  titles(): Promise<string[]> {
    return this.page.getByRole("list", { name: "Your workouts" }).getByRole("heading").allInnerTexts();
  }
}
