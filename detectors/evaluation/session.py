"""One `quaywatch tune` run: configs and footage in; annotated video, contact sheet and
summary out. The command module only parses arguments and prints."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from config.loading import load_site
from detectors.annotate import FiringBoard, KeyFrames, VideoSink, draw_analysis
from detectors.evaluation.labels import GroundTruth, read_mot
from detectors.evaluation.run import TuneRun
from detectors.evaluation.summary import RunTally, table

VIDEO_NAME = "annotated.mp4"
SHEET_NAME = "contact-sheet.png"
SUMMARY_NAME = "summary.json"


@dataclass(frozen=True)
class TuneReport:
    summaries: list[dict[str, object]]
    video: Path
    video_frames: int
    contact_sheet: Path | None
    summary_file: Path

    def table(self) -> str:
        return table(self.summaries)


def config_names(paths: Sequence[Path]) -> list[str]:
    """File stems, or whole paths where two stems are the same."""
    stems = [path.stem for path in paths]
    return [
        stem if stems.count(stem) == 1 else str(path)
        for stem, path in zip(stems, paths, strict=True)
    ]


def tune(
    config_paths: Sequence[Path],
    camera_id: str,
    out_dir: Path,
    footage: Path | None = None,
    labels: Path | None = None,
    frame_limit: int | None = None,
    progress: bool = True,
) -> TuneReport:
    """Run the footage through every config; with several configs the video shows their
    overlays side by side, in the order given."""
    sites = [load_site(path) for path in config_paths]
    truth: GroundTruth | None = read_mot(labels) if labels is not None else None
    out_dir.mkdir(parents=True, exist_ok=True)
    run = TuneRun(sites, camera_id, out_dir, footage, frame_limit)
    names = config_names(config_paths)
    tallies = [RunTally(name, site, camera_id) for name, site in zip(names, sites, strict=True)]
    boards = [FiringBoard() for _ in sites]
    zones = [site.zones_of(camera_id) for site in sites]
    video = VideoSink(out_dir / VIDEO_NAME, run.camera.target_fps)
    key_frames = KeyFrames(run.expected_frames)
    started = time.perf_counter()
    bar = tqdm(total=run.expected_frames, unit="frame", desc=camera_id, disable=not progress)
    try:
        for tuned in run.frames():
            panels = []
            for index, analysis in enumerate(tuned.analyses):
                at = tuned.frame.captured_at
                tallies[index].add(tuned.number, at, analysis, tuned.decode_wait_s)
                panels.append(
                    draw_analysis(
                        tuned.frame.image,
                        zones[index],
                        analysis,
                        boards[index],
                        names[index],
                        tuned.number,
                        at,
                    )
                )
            canvas = np.hstack(panels) if len(panels) > 1 else panels[0]
            video.write(canvas)
            fired = any(analysis.events for analysis in tuned.analyses)
            key_frames.offer(tuned.number, canvas, fired)
            bar.update(1)
        for tally, events in zip(tallies, run.close(), strict=True):
            tally.events += events
    finally:
        bar.close()
        video.close()
    wall_s = time.perf_counter() - started
    summaries = [tally.summary(wall_s, truth) for tally in tallies]
    sheet = key_frames.sheet()
    sheet_path: Path | None = None
    if sheet is not None:
        import cv2

        sheet_path = out_dir / SHEET_NAME
        cv2.imwrite(str(sheet_path), sheet)
    summary_file = out_dir / SUMMARY_NAME
    document = {
        "footage": run.camera.source,
        "frame_limit": run.frame_limit,
        "video": str(video.path),
        "contact_sheet": str(sheet_path) if sheet_path else None,
        "runs": summaries,
    }
    summary_file.write_text(json.dumps(document, indent=2) + "\n")
    return TuneReport(summaries, video.path, video.frames_written, sheet_path, summary_file)
