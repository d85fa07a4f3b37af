"""Shutdown steps always end (server/shutdown.py): the last CI failure was a node whose stop
hung for more than 30 s after its MongoDB server died."""

from __future__ import annotations

import asyncio

from parley.server.shutdown import bounded, stop_task


async def test_a_loop_that_swallows_one_cancellation_is_still_stopped() -> None:
    """Python 3.11's ``asyncio.wait_for`` can swallow a cancel that races its result; a
    ``while True`` loop around it then outlives one ``cancel()`` — the old ``await task`` hung."""
    swallowed = 0
    iterations = 0

    async def loop() -> None:
        nonlocal swallowed, iterations
        while True:
            iterations += 1
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                if swallowed == 0:
                    swallowed += 1
                    continue  # as the racing wait_for does: the loop goes on
                raise

    task = asyncio.create_task(loop())
    await asyncio.sleep(0.05)
    assert await stop_task(task, "a swallowing loop", timeout=10.0)
    assert task.cancelled() and swallowed == 1


async def test_a_task_that_never_stops_is_left_behind_and_reported() -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0.05)  # started: a task cancelled before its first step just ends
    assert not await stop_task(task, "a stubborn loop", timeout=0.5)
    assert not task.done()
    release.set()
    await task


async def test_stop_task_of_none_or_a_finished_task_is_true() -> None:
    assert await stop_task(None, "nothing")
    done = asyncio.create_task(asyncio.sleep(0))
    await done
    assert await stop_task(done, "a finished task")


async def test_bounded_gives_up_on_a_step_that_never_ends() -> None:
    forever = asyncio.get_running_loop().create_future()
    assert not await bounded(forever, "waiting forever", timeout=0.2)
    assert forever.cancelled()


async def test_bounded_reports_a_failing_step_and_does_not_raise() -> None:
    async def failing() -> None:
        raise ConnectionError("store gone")

    assert not await bounded(failing(), "a failing step", timeout=5.0)


async def test_bounded_step_that_finishes_is_true() -> None:
    async def quick() -> int:
        await asyncio.sleep(0)
        return 1

    assert await bounded(quick(), "a quick step", timeout=5.0)
