"""``healops dashboards push``: upload the dashboards into a Grafana through grafana-client, into a
``healops`` folder (created when missing), overwriting older versions of the same uid."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dashboards.grafana import all_dashboards, to_json
from detectors.openslo import CompiledSlo
from healops.errors import HealopsError

FOLDER_UID = "healops"


@dataclass
class Pushed:
    uid: str
    version: int | None
    url: str


def push_dashboards(url: str, token: str, slos: list[CompiledSlo], folder_uid: str = FOLDER_UID,
                    folder_title: str = "healops", timeout_s: float = 10.0) -> list[Pushed]:
    """Create the folder if needed and save every dashboard in it; raise HealopsError saying why not."""
    from grafana_client.api import GrafanaApi
    from grafana_client.client import GrafanaClientError, GrafanaException, GrafanaUnauthorizedError

    api = GrafanaApi.from_url(url, credential=token, timeout=timeout_s)
    try:
        try:
            api.folder.get_folder(folder_uid)
        except GrafanaClientError as exc:
            if exc.status_code != 404:
                raise
            api.folder.create_folder(folder_title, uid=folder_uid)
        pushed = []
        for dash in all_dashboards(slos).values():
            doc: dict[str, Any] = to_json(dash)
            answer = api.dashboard.update_dashboard({"dashboard": doc, "folderUid": folder_uid, "overwrite": True,
                                                     "message": "healops dashboards push"})
            pushed.append(Pushed(str(answer.get("uid", doc["uid"])), answer.get("version"), str(answer.get("url", ""))))
    except GrafanaUnauthorizedError as exc:
        raise HealopsError(f"Grafana at {url} refused the token (401): {exc.message}") from exc
    except GrafanaException as exc:
        raise HealopsError(f"Grafana at {url} answered {exc.status_code}: {exc.message}") from exc
    except OSError as exc:  # niquests' connection errors derive from it
        raise HealopsError(f"cannot reach Grafana at {url}: {exc}") from exc
    return pushed
