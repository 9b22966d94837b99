"""The workout log endpoints: thin translation between HTTP and the repository plus its index."""

from __future__ import annotations

import contextlib
from typing import Any

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.params import FromPath

from spotter.errors import BackendUnavailable, DatabaseUnavailable, NotFound
from spotter.http.auth import authenticated_user
from spotter.http.inputs import HeaderReader, parse_date, parse_uuid, read_json_body
from spotter.http.problems import InvalidParam, InvalidRequest
from spotter.retrieval.workout_index import erase_user, index_workout, remove_workouts
from spotter.services import Services
from spotter.workouts.model import WorkoutInput
from spotter.workouts.paging import DEFAULT_LIMIT, MAX_LIMIT, InvalidCursor

__all__ = [
    "create_workout",
    "delete_all_workouts",
    "delete_workout",
    "erase_my_data",
    "get_workout",
    "list_workouts",
]

JSON = "application/json"
_encoder = msgspec.json.Encoder()


def _caller(request: Request[Any, Any, Any]) -> tuple[Services, str, HeaderReader]:
    services: Services = request.app.state.services
    user_id = authenticated_user(request, services.settings.auth_secret)
    headers = HeaderReader(request)
    headers.request_id()
    return services, user_id, headers


def _workout_id(headers: HeaderReader, raw: str) -> str:
    parsed = parse_uuid(raw)
    if parsed is None:
        headers.errors.append(InvalidParam("path", "must be a UUID", "workout_id"))
    headers.raise_if_invalid()
    return str(parsed)


@post("/v1/workouts", status_code=201)
async def create_workout(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Store a workout and index it for the user's retrieval."""
    services, user_id, headers = _caller(request)
    headers.raise_if_invalid()
    workout_input = await read_json_body(request, WorkoutInput)
    try:
        workout = await services.workouts.create(user_id, workout_input)
    except BackendUnavailable as error:
        raise DatabaseUnavailable(str(error)) from None
    # The log is the source of truth; a store outage leaves retrieval degraded, not the create failed.
    with contextlib.suppress(BackendUnavailable):
        await index_workout(services.vector_store, services.embedder, user_id, workout)
    return Response(
        _encoder.encode(workout),
        status_code=201,
        media_type=JSON,
        headers={"Location": f"/v1/workouts/{workout.id}"},
    )


@get("/v1/workouts")
async def list_workouts(request: Request[Any, Any, Any]) -> Response[bytes]:
    """A page of the user's workouts, newest first."""
    services, user_id, headers = _caller(request)
    query = request.query_params
    errors = headers.errors
    limit = DEFAULT_LIMIT
    raw_limit = query.get("limit")
    if raw_limit is not None:
        if raw_limit.isascii() and raw_limit.isdigit() and 1 <= int(raw_limit) <= MAX_LIMIT:
            limit = int(raw_limit)
        else:
            errors.append(InvalidParam("query", f"must be an integer from 1 to {MAX_LIMIT}", "limit"))
    cursor = query.get("cursor")
    date_from = parse_date(query.get("date_from"), "date_from", errors)
    date_to = parse_date(query.get("date_to"), "date_to", errors)
    headers.raise_if_invalid()
    try:
        page = await services.workouts.list(
            user_id, limit=limit, cursor=cursor, date_from=date_from, date_to=date_to
        )
    except InvalidCursor:
        message = "must be 36 characters of A-Z a-z 0-9 - _ (a page's next_cursor)"
        raise InvalidRequest([InvalidParam("query", message, "cursor")]) from None
    except BackendUnavailable as error:
        raise DatabaseUnavailable(str(error)) from None
    return Response(_encoder.encode(page), media_type=JSON)


@get("/v1/workouts/{workout_id:str}")
async def get_workout(request: Request[Any, Any, Any], workout_id: FromPath[str]) -> Response[bytes]:
    """One of the user's workouts."""
    services, user_id, headers = _caller(request)
    canonical = _workout_id(headers, workout_id)
    try:
        workout = await services.workouts.get(user_id, canonical)
    except BackendUnavailable as error:
        raise DatabaseUnavailable(str(error)) from None
    if workout is None:
        raise NotFound("no such workout")
    return Response(_encoder.encode(workout), media_type=JSON)


@delete("/v1/workouts/{workout_id:str}", status_code=204)
async def delete_workout(request: Request[Any, Any, Any], workout_id: FromPath[str]) -> None:
    """Delete one of the user's workouts and its embedding."""
    services, user_id, headers = _caller(request)
    canonical = _workout_id(headers, workout_id)
    try:
        deleted = await services.workouts.delete(user_id, canonical)
    except BackendUnavailable as error:
        raise DatabaseUnavailable(str(error)) from None
    if not deleted:
        raise NotFound("no such workout")
    await remove_workouts(services.vector_store, user_id, [canonical])


@delete("/v1/workouts", status_code=204)
async def delete_all_workouts(request: Request[Any, Any, Any]) -> None:
    """Erase every workout of the user, rows and vectors."""
    services, user_id, headers = _caller(request)
    headers.raise_if_invalid()
    try:
        await services.workouts.delete_all(user_id)
    except BackendUnavailable as error:
        raise DatabaseUnavailable(str(error)) from None
    await erase_user(services.vector_store, user_id)


@delete("/v1/me", status_code=204)
async def erase_my_data(request: Request[Any, Any, Any]) -> None:
    """Erase all of the user's data: conversations, workouts and their vectors."""
    services, user_id, headers = _caller(request)
    headers.raise_if_invalid()
    await services.coordinator.forget_user(user_id)
    try:
        await services.workouts.delete_all(user_id)
    except BackendUnavailable as error:
        raise DatabaseUnavailable(str(error)) from None
    await erase_user(services.vector_store, user_id)
