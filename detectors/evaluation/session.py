"""One `quaywatch tune` run: configs and footage in; annotated video, contact sheet and
summary out. The command module only parses arguments and prints."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from config.loading import load_site
from config.site import SiteConfig
from detectors.annotate import AnalysisAnnotator
from detectors.evaluation.firings import FiringBoard
from detectors.evaluation.labels import GroundTruth, read_mot
from detectors.evaluation.recording import KeyFrames, VideoSink
from detectors.evaluation.run import TunedFrame, TuneError, TuneRun
from detectors.evaluation.summary import RunSummary, RunTally, table
from detectors.pipeline import FrameAnalysis

VIDEO_NAME = "annotated.mp4"
SHEET_NAME = "contact-sheet.png"
SUMMARY_NAME = "summary.json"


@dataclass(frozen=True)
class TuneReport:
    footage: str
    frame_limit: int  # footage frames played: --frames, or the whole file
    media_fps: float  # the footage's own frame rate
    camera_id: str
    target_fps: float  # the camera's sampling rate, as the worker samples it live
    summaries: list[RunSummary]  # one per config, in the order given
    video: Path
    video_frames: int
    contact_sheet: Path | None
    summary_file: Path

    def to_json(self) -> dict[str, object]:
        """The document of summary.json."""
        return {
            "footage": self.footage,
            "frame_limit": self.frame_limit,
            "media_fps": self.media_fps,
            "target_fps": self.target_fps,
            "sampling": self.sampling(),
            "video": str(self.video),
            "contact_sheet": str(self.contact_sheet) if self.contact_sheet else None,
            "runs": [summary.to_json() for summary in self.summaries],
        }

    def sampling(self) -> str:
        """How many frames were analysed, of how many footage frames, and why that many."""
        analysed = self.summaries[0].frames if self.summaries else self.video_frames
        line = f"analysed {analysed} of the first {self.frame_limit} footage frames"
        footage = f"the footage runs at {self.media_fps:g} fps"
        if self.target_fps < self.media_fps:
            return (
                f"{line}: {footage} and camera {self.camera_id} samples it at its target_fps "
                f"{self.target_fps:g} (one frame in {self.media_fps / self.target_fps:.3g}), "
                "as the worker does live"
            )
        return f"{line}: {footage}, within camera {self.camera_id}'s target_fps, so every one"

    def text(self) -> str:
        """What was analysed and why, the figures side by side, then where the outputs are."""
        lines = [self.sampling(), table(self.summaries)]
        for summary in self.summaries:
            mistakes = summary.accuracy.mistakes() if summary.accuracy else []
            if mistakes:
                lines += ["", f"events of {summary.config} to look at (footage frame numbers):"]
                lines += [f"  {line}" for line in mistakes]
        lines += ["", f"video: {self.video} ({self.video_frames} frames)"]
        if self.contact_sheet is not None:
            lines.append(f"contact sheet: {self.contact_sheet}")
        lines.append(f"summary: {self.summary_file}")
        return "\n".join(lines)


@dataclass(frozen=True)
class _ConfigPanel:
    """One config's side of the run: its tally, and its panel of the video."""

    tally: RunTally
    board: FiringBoard
    annotator: AnalysisAnnotator

    def take(self, tuned: TunedFrame, analysis: FrameAnalysis) -> np.ndarray:
        at = tuned.frame.captured_at
        self.tally.add(tuned.number, at, analysis, tuned.decode_wait_s)
        firings = self.board.update(analysis.events)
        return self.annotator.annotate(tuned.frame.image, analysis, firings, tuned.number, at)


def config_names(paths: Sequence[Path]) -> list[str]:
    """File stems, or whole paths where two stems are the same."""
    stems = [path.stem for path in paths]
    return [
        stem if stems.count(stem) == 1 else str(path)
        for stem, path in zip(stems, paths, strict=True)
    ]


def only_camera(site: SiteConfig, path: Path) -> str:
    if len(site.cameras) != 1:
        cameras = ", ".join(camera.id for camera in site.cameras)
        raise TuneError(f"{path}: --camera is needed, the site has several: {cameras}")
    return site.cameras[0].id


def tune(
    config_paths: Sequence[Path],
    camera_id: str | None = None,
    out_dir: Path | None = None,
    footage: Path | None = None,
    labels: Path | None = None,
    frame_limit: int | None = None,
    progress: bool = True,
) -> TuneReport:
    """Run the footage through every config; with several configs the video shows their
    overlays side by side, in the order given. Without a camera the first site's only one is
    tuned; without an output folder, tune-CAMERA."""
    sites = [load_site(path) for path in config_paths]
    camera_id = camera_id or only_camera(sites[0], config_paths[0])
    out_dir = out_dir or Path(f"tune-{camera_id}")
    truth: GroundTruth | None = read_mot(labels) if labels is not None else None
    out_dir.mkdir(parents=True, exist_ok=True)
    run = TuneRun(sites, camera_id, out_dir, footage, frame_limit)
    panels = [
        _ConfigPanel(
            RunTally(name, site, camera_id),
            FiringBoard(),
            AnalysisAnnotator(site.zones_of(camera_id), name),
        )
        for name, site in zip(config_names(config_paths), sites, strict=True)
    ]
    video = VideoSink(out_dir / VIDEO_NAME, run.camera.target_fps)
    key_frames = KeyFrames(run.expected_frames)
    started = time.perf_counter()
    bar = tqdm(total=run.expected_frames, unit="frame", desc=camera_id, disable=not progress)
    try:
        for tuned in run.frames():
            drawn = [
                panel.take(tuned, analysis)
                for panel, analysis in zip(panels, tuned.analyses, strict=True)
            ]
            canvas = np.hstack(drawn) if len(drawn) > 1 else drawn[0]
            video.write(canvas)
            fired = any(analysis.events for analysis in tuned.analyses)
            key_frames.offer(tuned.number, canvas, fired)
            bar.update(1)
        for panel, events in zip(panels, run.close(), strict=True):
            panel.tally.events += events
    finally:
        bar.close()
        video.close()
    wall_s = time.perf_counter() - started
    sheet = key_frames.sheet()
    sheet_path: Path | None = None
    if sheet is not None:
        sheet_path = out_dir / SHEET_NAME
        cv2.imwrite(str(sheet_path), sheet)
    report = TuneReport(
        footage=run.camera.source,
        frame_limit=run.frame_limit,
        media_fps=run.media_fps,
        camera_id=camera_id,
        target_fps=run.camera.target_fps,
        summaries=[panel.tally.summary(wall_s, truth) for panel in panels],
        video=video.path,
        video_frames=video.frames_written,
        contact_sheet=sheet_path,
        summary_file=out_dir / SUMMARY_NAME,
    )
    report.summary_file.write_text(json.dumps(report.to_json(), indent=2) + "\n")
    return report
