"""The console's routes for what the cameras and the yard show: clips of alerts, each
camera's live frame, the yard map, and the operators an alert can be assigned to. Behind
the same login and roles as the alerts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse

from quaywatch.console import present
from quaywatch.console.auth import Session
from quaywatch.console.snapshots import ClipStore, SnapshotRefused
from quaywatch.console.users import Role
from streams.worker.live import live_frame_path

if TYPE_CHECKING:
    from quaywatch.console.app import ConsoleParts


def add_evidence_routes(
    app: FastAPI, parts: ConsoleParts, alert_readers: Any, operators: Any
) -> None:
    """`alert_readers` and `operators` are the app's own role guards (as Depends); the routes
    go on the app itself, so the route checks see them as they see every other."""
    data_dir = Path(parts.site.data_dir)
    clips = parts.clips or ClipStore(data_dir / "clips")
    cameras = [camera.id for camera in parts.site.cameras]

    @app.get("/clips/{name}")
    def clip(name: str, session: Session = alert_readers) -> FileResponse:
        try:
            path = clips.path_of(name)
        except SnapshotRefused as error:
            raise HTTPException(400, detail=str(error)) from None
        if path is None:
            raise HTTPException(404, detail=f"no clip {name} in the clip store")
        # Named by content; FileResponse answers the range requests a video element makes.
        return FileResponse(
            path, media_type="video/webm", headers={"Cache-Control": "private, max-age=86400"}
        )

    @app.get("/api/live")
    def live(session: Session = alert_readers) -> list[present.LiveFrame]:
        frames = []
        for camera_id in cameras:
            path = live_frame_path(data_dir, camera_id)
            try:
                written = path.stat().st_mtime
            except OSError:
                continue  # no worker has written this camera yet
            frames.append(
                present.LiveFrame(
                    camera_id=camera_id,
                    written_at=datetime.fromtimestamp(written, UTC),
                    url=f"/live/{camera_id}.jpg?v={int(written * 1000)}",
                )
            )
        return frames

    @app.get("/live/{camera_id}.jpg")
    def live_frame(camera_id: str, session: Session = alert_readers) -> FileResponse:
        # Only the site's own camera ids reach the file system: no name is built from input.
        if camera_id not in cameras:
            raise HTTPException(404, detail=f"no camera {camera_id!r} on this site")
        path = live_frame_path(data_dir, camera_id)
        if not path.is_file():
            raise HTTPException(404, detail=f"camera {camera_id} has no live frame yet")
        return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "no-store"})

    @app.get("/api/yard")
    def yard(session: Session = alert_readers) -> list[present.ZoneOnMapView]:
        return [
            present.ZoneOnMapView.model_validate(zone)
            for zone in parts.board.yard.zones(parts.site)
        ]

    @app.get("/api/operators")
    def assignable(session: Session = operators) -> list[present.Assignee]:
        """Who an alert can be assigned to: every operator in the users file."""
        names = sorted(
            name for name, user in parts.users.users().items() if user.role is Role.operator
        )
        return [present.Assignee(name=name) for name in names]
