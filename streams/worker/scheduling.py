"""One model session per worker, shared by its cameras, served fairly.

Each camera thread takes its camera's newest frame (the capture keeps only that one), cuts
its crops and asks for a turn; one model thread serves the waiting turns longest-waiting
first, and the crops of all waiting cameras that have the same size go through the model in
one call (batched: cheaper per crop than one call each, bench/cameras.py measures it). A
camera waits for at most one turn at a time, so no camera can crowd the others out.

>>> shared = SharedModel(ModelSession(site.detector, model_file)).start()  # doctest: +SKIP
>>> pipeline = CameraPipeline(..., shared.for_camera("quay-cam-1"), ...)      # doctest: +SKIP
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from detectors.regions import Crop, suppress_across_seams
from detectors.session import CropInput, ModelSession, crop_input

# Crops in one model call at most: a bigger batch waits longer for its slowest crop and does
# not run faster per crop on a few cores.
MAX_BATCH_CROPS = 16


@dataclass
class _Turn:
    camera_id: str
    inputs: list[CropInput]
    waiting_since: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)
    found: list[np.ndarray] = field(default_factory=list)
    error: BaseException | None = None


class ModelStopped(RuntimeError):
    """The worker's model session was stopped while a camera waited for its turn."""


class SharedModel:
    """The worker's one model session; cameras get their turns through for_camera()."""

    def __init__(self, session: ModelSession, batch_crops: bool = True) -> None:
        self.session = session
        self.batch_crops = batch_crops
        self._waiting: list[_Turn] = []
        self._changed = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._serve, name="model-session", daemon=True)
        self.calls = 0  # model calls made, for the bench
        self.busy_s = 0.0  # seconds the model ran, for the bench: how near it is to saturated
        # Cameras in the order their latest turns were served, to show the scheduling.
        self.served_order: deque[str] = deque(maxlen=1000)

    def start(self) -> SharedModel:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def for_camera(self, camera_id: str) -> CameraTurns:
        return CameraTurns(self, camera_id)

    def wait_for_turn(self, turn: _Turn) -> list[np.ndarray]:
        with self._changed:
            if self._stopping:
                raise ModelStopped(f"camera {turn.camera_id}: the model session was stopped")
            self._waiting.append(turn)
            self._changed.notify_all()
        turn.done.wait()
        if turn.error is not None:
            raise turn.error
        return turn.found

    def _serve(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._waiting or self._stopping)
                if self._stopping:
                    for turn in self._waiting:
                        turn.error = ModelStopped(f"camera {turn.camera_id}: model stopped")
                        turn.done.set()
                    return
                turns = self._next_turns()
            try:
                self._run(turns)
            except Exception as error:  # every waiting camera hears of it, none hangs
                for turn in turns:
                    turn.error = error
            for turn in turns:
                self.served_order.append(turn.camera_id)
                turn.done.set()

    def _next_turns(self) -> list[_Turn]:
        """The longest-waiting turns, as many as fit a batch (always at least one)."""
        self._waiting.sort(key=lambda turn: turn.waiting_since)
        if not self.batch_crops:
            return [self._waiting.pop(0)]
        taken: list[_Turn] = []
        crops = 0
        while self._waiting and (
            not taken or crops + len(self._waiting[0].inputs) <= MAX_BATCH_CROPS
        ):
            turn = self._waiting.pop(0)
            taken.append(turn)
            crops += len(turn.inputs)
        return taken

    def _run(self, turns: Sequence[_Turn]) -> None:
        inputs = [item for turn in turns for item in turn.inputs]
        began = time.perf_counter()
        found = self.session.run(inputs)
        self.busy_s += time.perf_counter() - began
        self.calls += len({item.shape for item in inputs})
        start = 0
        for turn in turns:
            turn.found = found[start : start + len(turn.inputs)]
            start += len(turn.inputs)


class CameraTurns:
    """One camera's access to the shared session: the pipeline's region detector."""

    def __init__(self, shared: SharedModel, camera_id: str) -> None:
        self.shared = shared
        self.camera_id = camera_id
        self.class_names = shared.session.class_names

    def detect(self, image: np.ndarray, crops: Sequence[Crop]) -> np.ndarray:
        """Rows of x1 y1 x2 y2 score class_index in frame pixels, after this camera's turn."""
        turn = _Turn(self.camera_id, [crop_input(image, crop) for crop in crops])
        return suppress_across_seams(self.shared.wait_for_turn(turn))
