"""Tests of the workout log (`spotter.workouts`); a package so its module names stay unique."""
