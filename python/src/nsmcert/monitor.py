"""MonitorConnections from Python: watch a daemon's connections as they come and go.

>>> with nsmcert.Monitor(domain.nsmgr_url("node-a")) as monitor:
...     event = monitor.wait_for(lambda e: e["type"] == "UPDATE", timeout=10)
...     conn = next(iter(event["connections"].values()))
...     conn["network_service"], conn["state"]

Events are dicts in the proto's field names: ``{"type": "INITIAL_STATE_TRANSFER" | "UPDATE" |
"DELETE", "connections": {id: Connection dict}}``.
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

from . import _core

Event = Dict[str, Any]


class Monitor:
    """A subscription to ``/connection.MonitorConnection/MonitorConnections`` at ``url``
    (``unix:///...``, or ``tcp://...`` with the ``netns`` it lives in). The selector narrows it to
    ``network_services`` and/or a run of ``path_segments`` (dicts with id/name/token)."""

    def __init__(
        self,
        url: str,
        *,
        netns: Any = None,
        network_services: Sequence[str] = (),
        path_segments: Sequence[Dict[str, str]] = (),
        timeout: float = 5.0,
    ):
        selector = {
            "network_services": list(network_services),
            "path_segments": [dict(segment) for segment in path_segments],
        }
        self._stream = _core.MonitorStream.open(
            url, netns=netns, selector_json=json.dumps(selector), timeout=timeout
        )
        self.events: List[Event] = []  # every event read so far, in order

    def next(self, timeout: float = 5.0) -> Optional[Event]:
        """The next event, or None after ``timeout``. Raises when the stream has ended."""
        text = self._stream.next(timeout)
        if text is None:
            return None
        event = json.loads(text)
        self.events.append(event)
        return event

    def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 10.0) -> Event:
        """The first event (already read or new) for which ``predicate`` holds; raises
        TimeoutError listing the events seen otherwise."""
        for event in self.events:
            if predicate(event):
                return event
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = "\n  ".join(json.dumps(e, sort_keys=True) for e in self.events) or "none"
                raise TimeoutError(f"no matching monitor event within {timeout}s; events seen:\n  {seen}")
            event = self.next(remaining)
            if event is not None and predicate(event):
                return event

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> "Monitor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def connections_of(event: Event) -> List[Dict[str, Any]]:
    """The connections an event carries."""
    return list((event.get("connections") or {}).values())
